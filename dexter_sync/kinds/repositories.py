"""Kind `repository`: an organization repository (REFERENCE.md §7), in `integration_links`.

Repositories of a code-host integration (GitHub, GitLab, ...) are normally created by the
integration's own sync, so dexter usually adopts them by name. When one is missing dexter
creates it through Sentry's private POST (`provider: integrations:<provider>`,
`installation: <integration id>`, `identifier: <name>`) and deletes it with DELETE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from ..core.changes import ResourceChange
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .fields import matching, present
from .registry import register

PROVIDER_PREFIX = "integrations:"


def provider_key(value: Any) -> str | None:
    """`integrations:github` / `{"id": "integrations:github"}` / `github` -> `github`."""
    if isinstance(value, dict):
        value = value.get("id") or value.get("key")
    if not value:
        return None
    return str(value).removeprefix(PROVIDER_PREFIX)


def live_integration_name(directory: Directory, integration_id: Any) -> str | None:
    """A live object's `integrationId` as the manifest names it: the integration's name,
    or the bare id when the directory does not know it (None when there is none)."""
    if not integration_id:
        return None
    integration = directory.integration(integration_id)
    return integration.name if integration else str(integration_id)


if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    ProviderKey = str
else:
    ProviderKey = matching(r"^[a-z][a-z0-9_.-]*$", "a provider is a lower-case key such as `github`")


class RepositoryEntry(EntryModel):
    """A repository (`integration_links[]` with `type: repository`), keyed by name."""

    name: str = Field(min_length=1, max_length=200, description="Repository name as Sentry shows it, e.g. `acme/backend`.")
    integration: str | None = Field(
        None, min_length=1, description="Name of the code-host integration that owns it (needed to create it).")
    provider: ProviderKey | None = Field(
        None,
        description="Provider key (`github`, `gitlab`, `bitbucket`, `vsts`, ...); default: the integration's provider.")
    url: str | None = Field(None, description="Web URL of the repository.")


def _repos_path(organization: str, repo_id: str | None = None) -> str:
    base = f"organizations/{path_segment(organization)}/repos/"
    return f"{base}{path_segment(repo_id)}/" if repo_id is not None else base


class RepositoryKind(ResourceKind[RepositoryEntry]):
    name = "repository"
    section = "integration_links"
    type_tag = "repository"
    entry_model = RepositoryEntry
    provides_reference = "repository"
    title = "A repository of a code-host integration (usually adopted from the integration's sync)."

    def key(self, entry: RepositoryEntry) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data["name"])

    def references(self, entry: RepositoryEntry) -> list[Reference]:
        # The repository names itself: usually it is adopted from the integration's sync, and
        # the embedded emulator creates what the manifests name (scope: its integration).
        refs = [Reference("repository", entry.name, ("name",), scope=entry.integration)]
        if entry.integration is not None:
            refs.append(Reference("integration", entry.integration, ("integration",),
                                  provider=entry.provider))
        return refs

    def build_payload(self, entry: RepositoryEntry, *, directory: Directory) -> dict[str, Any]:
        if entry.integration is None:
            raise DexterError(
                f"repository {entry.name!r}: set `integration` so dexter can create it",
                code="missing-integration")
        integration = directory.integration(entry.integration, entry.provider)
        if integration is None:
            raise DexterError(f"repository {entry.name!r}: unknown integration {entry.integration!r}",
                              code="unknown-reference")
        return {
            "provider": f"{PROVIDER_PREFIX}{entry.provider or integration.provider}",
            "installation": integration.id,
            "identifier": entry.name,
        }

    def canonical(self, entry: RepositoryEntry, *, directory: Directory) -> dict[str, Any]:
        return {"name": entry.name, **present(entry, ("integration", "provider", "url"))}

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> RepositoryEntry:
        return RepositoryEntry.model_construct(
            name=str(data["name"]),
            integration=live_integration_name(directory, data.get("integrationId")),
            provider=provider_key(data.get("provider")),
            url=data.get("url") or None,
        )

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        return [ListRequest(ApiRequest("GET", _repos_path(ctx.organization), params={"per_page": 100}))]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", _repos_path(organization), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """Sentry's private PUT changes the url and the owning integration, nothing else."""
        changed = {str(fc.path[0]) for fc in change.diff if fc.path}
        body: dict[str, Any] = {}
        if "url" in changed and change.after is not None:
            body["url"] = change.after.get("url")
        if "integration" in changed and change.payload:
            body["integrationId"] = change.payload.get("installation")
        if "provider" in changed:
            raise DexterError(
                f"repository {change.key}: Sentry cannot change a repository's provider; "
                "remove it in Sentry and apply again", code="not-updatable")
        return ApiRequest("PUT", _repos_path(organization, _live_id(change)), json=body)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", _repos_path(organization, _live_id(change)))


def _live_id(change: ResourceChange) -> str:
    if not change.live_id:
        raise DexterError(f"{change.address}: no live id to address", code="missing-live-id")
    return change.live_id


register(RepositoryKind())
