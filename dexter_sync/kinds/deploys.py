"""Kind `deploy`: a deploy of a release to an environment (REFERENCE.md §6).

Deploys are declared inside a release entry (`releases[].deploys`), keyed by
`<version>/<environment>/<name or "">`. Sentry has no update or delete endpoint for them and
every POST adds another deploy, so the kind is create-only and never pruned. Sentry's list
shows only the latest deploy per project x environment, which is why a release may declare
at most one deploy per environment and project set (checked by the release model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr, model_validator

from ..core.changes import ResourceChange
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .fields import UtcDatetime, format_instant, live_instant, matching, present
from .registry import register

# Sentry's Environment.is_valid_name.
ENVIRONMENT_PATTERN = r"^[^\n\r\f/]+$"
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    EnvironmentName = str
else:
    EnvironmentName = matching(ENVIRONMENT_PATTERN, "an environment name may not contain `/` or line breaks",
                               min_length=1, max_length=64)


# ---- the manifest entry ----------------------------------------------------------------


class DeployEntry(EntryModel):
    """One deploy of the enclosing release (`releases[].deploys[]`)."""

    environment: EnvironmentName = Field(
        description="Environment deployed to (created in Sentry if missing); at most 64 characters, no `/`."
    )
    name: str | None = Field(None, max_length=64, description="Deploy name, part of its identity.")
    url: str | None = Field(None, description="Link to the deploy (CI job, dashboard).")
    date_started: UtcDatetime | None = Field(None, description="When the deploy started (ISO-8601).")
    date_finished: UtcDatetime | None = Field(
        None, description="When the deploy finished (ISO-8601); Sentry uses the current time when omitted."
    )
    projects: list[str] | None = Field(
        None, min_length=1,
        description="Project slugs deployed (default: every project of the release). Not compared: Sentry does not return them.",
    )

    _version: str = PrivateAttr(default="")
    """Version of the enclosing release, set by `ReleaseKind.children`."""

    @model_validator(mode="after")
    def _dates_in_order(self) -> DeployEntry:
        if self.date_started and self.date_finished and self.date_started > self.date_finished:
            raise ValueError("date_started must not be after date_finished")
        return self

    def with_version(self, version: str) -> DeployEntry:
        copy = self.model_copy()
        copy._version = version
        return copy


def deploy_key(version: str, environment: str, name: str | None) -> str:
    return f"{version}/{environment}/{name or ''}"


def deploy_version(change: ResourceChange) -> str:
    """The release version of a deploy change (versions never contain `/`)."""
    return change.parent_key or change.key.split("/", 1)[0]


class DeployKind(ResourceKind[DeployEntry]):
    name = "deploy"
    section = "releases"
    entry_model = DeployEntry
    id_path_segments = ("releases",)  # versions and issue ids can look like words
    child_of = "release"
    depends_on = ("release",)
    prunable = False
    updatable = False
    title = "A deploy of a release to an environment (create-only: Sentry cannot edit or delete deploys)."

    def key(self, entry: DeployEntry) -> str:
        return deploy_key(entry._version, entry.environment, entry.name)

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return deploy_key(parent or "", str(data.get("environment") or ""), data.get("name"))

    def references(self, entry: DeployEntry) -> list[Reference]:
        # The environment is not a reference: Sentry creates it on the first deploy.
        return [Reference("project", slug, ("projects", i)) for i, slug in enumerate(entry.projects or [])]

    def build_payload(self, entry: DeployEntry, *, directory: Directory) -> dict[str, Any]:
        payload: dict[str, Any] = {"environment": entry.environment,
                                   **present(entry, ("name", "url"))}
        if entry.date_started is not None:
            payload["dateStarted"] = format_instant(entry.date_started)
        if entry.date_finished is not None:
            payload["dateFinished"] = format_instant(entry.date_finished)
        if entry.projects:
            payload["projects"] = sorted(set(entry.projects))
        return payload

    def canonical(self, entry: DeployEntry, *, directory: Directory) -> dict[str, Any]:
        dates = present(entry, ("date_started", "date_finished"))
        return {"environment": entry.environment, **present(entry, ("name", "url")),
                **{name: format_instant(value) for name, value in dates.items()}}

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> DeployEntry:
        return DeployEntry(
            environment=str(data["environment"]),
            name=data.get("name") or None,
            url=data.get("url") or None,
            date_started=live_instant(data.get("dateStarted")),
            date_finished=live_instant(data.get("dateFinished")),
        )

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        """One deploy list per release that is both declared with deploys and live."""
        wanted = {r.parent_key for r in ctx.desired if r.parent_key}
        live = {o.key for o in ctx.live.of_kind("release")} if ctx.live else set()
        return [
            ListRequest(
                ApiRequest("GET", f"organizations/{path_segment(ctx.organization)}/releases/"
                                  f"{path_segment(version)}/deploys/", params={"per_page": 100}),
                parent=version,
            )
            for version in sorted(wanted & live)
        ]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest(
            "POST",
            f"organizations/{path_segment(organization)}/releases/"
            f"{path_segment(deploy_version(change))}/deploys/",
            json=change.payload,
        )

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        raise DexterError(f"deploy {change.key}: Sentry cannot update a deploy", code="not-updatable")

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        raise DexterError(f"deploy {change.key}: Sentry cannot delete a deploy", code="not-deletable")


register(DeployKind())
