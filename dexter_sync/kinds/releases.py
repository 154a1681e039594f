"""Kind `release`: an organization release, keyed by version (REFERENCE.md §5).

Sentry's POST is get-or-create by (organization, version): it applies ref/url/dateReleased
only when it creates the release, and on an existing one only adds projects and sets
status/commits/refs. So a create is safe to retry (and adopts a release that sentry-cli made),
an update of ref/url/date_released/status goes through PUT, and adding projects is a POST
with the full project list (POST never removes projects, so a project dropped from the
manifest stays a reported difference). Commits, refs and owner are sent but not compared:
Sentry does not return the first two and cannot change the owner.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..core.changes import ResourceChange
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from ..core.sources import FieldPath
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .deploys import DeployEntry
from .fields import UtcDatetime, format_instant, live_instant, present
from .registry import register

# Sentry's sentry.constants.BAD_RELEASE_CHARS and MAX_VERSION_LENGTH.
BAD_RELEASE_CHARS = "\r\n\f\x0c\t/\\"
MAX_VERSION_LENGTH = 200
MAX_COMMIT_LENGTH = 64
MAX_PROJECT_FILTER = 50

# Fields Sentry's PUT accepts (OrganizationReleaseSerializer); the rest need a POST.
PUT_FIELDS = ("ref", "url", "dateReleased", "commits", "refs", "status")


def check_version(version: str) -> str:
    """Sentry's Release.is_valid_version, with the reason when it fails."""
    bad = sorted({repr(c) for c in version if c in BAD_RELEASE_CHARS})
    if bad:
        raise ValueError(f"a release version may not contain {', '.join(bad)}")
    stripped = version.strip()
    if not stripped:
        raise ValueError("a release version may not be empty")
    if stripped in (".", "..") or stripped.lower() == "latest":
        raise ValueError(f"{stripped!r} is reserved and cannot be a release version")
    return version


class PatchEntry(EntryModel):
    path: str = Field(min_length=1)
    type: Literal["A", "M", "D"] = Field(description="A (added), M (modified) or D (deleted).")


class CommitEntry(EntryModel):
    """A commit of the release, in Sentry's own (snake_case) commit form."""

    id: str = Field(min_length=1, max_length=MAX_COMMIT_LENGTH, description="Commit SHA.")
    repository: str | None = Field(None, description="Repository name, e.g. `acme/backend`.")
    message: str | None = None
    author_name: str | None = None
    author_email: str | None = None
    timestamp: UtcDatetime | None = None
    patch_set: list[PatchEntry] | None = None


class RefEntry(EntryModel):
    """A commit range of one repository (Sentry's `refs`); needs a user-backed token."""

    repository: str = Field(min_length=1)
    commit: str = Field(min_length=1, max_length=MAX_COMMIT_LENGTH)
    previous_commit: str | None = Field(None, max_length=MAX_COMMIT_LENGTH)


class ReleaseEntry(EntryModel):
    """A release (`releases[]`), keyed by version."""

    version: str = Field(max_length=MAX_VERSION_LENGTH, description="Release version; no `/`, `\\`, tabs or newlines; not `latest`, `.` or `..`.")
    projects: list[str] = Field(min_length=1, description="Project slugs (Sentry can add projects to a release, never remove them).")
    ref: str | None = Field(None, max_length=200, description="VCS reference (tag, branch).")
    url: str | None = Field(None, description="Link to the release (changelog, CI).")
    date_released: UtcDatetime | None = Field(None, description="When the release went live; setting it finalizes the release.")
    finalized: bool | None = Field(
        None, description="`true`: the release is finalized (has a release date), as `sentry-cli releases finalize` does; compared by presence of the date.")
    commits: list[CommitEntry] | None = Field(None, description="Commits (sent, not compared: Sentry does not return them).")
    refs: list[RefEntry] | None = Field(None, description="Commit ranges per repository (sent, not compared).")
    status: Literal["open", "archived"] | None = Field(None, description="`open` (default) or `archived`.")
    owner: str | None = Field(None, description="Owner's username or email (set when the release is created; not compared).")
    deploys: list[DeployEntry] = Field(default_factory=list, description="Deploys of this release (create-only).")
    raw: dict[str, Any] | None = Field(None, description="Extra Sentry request fields, passed through as written (not compared).")

    @field_validator("version")
    @classmethod
    def _valid_version(cls, version: str) -> str:
        return check_version(version)

    @field_validator("projects")
    @classmethod
    def _unique_projects(cls, projects: list[str]) -> list[str]:
        seen = [p for i, p in enumerate(projects) if p in projects[:i]]
        if seen:
            raise ValueError(f"project {seen[0]!r} is listed twice")
        return projects

    # Field validators, so that an error points at the field's own line (`date_released`
    # and `projects` are declared before the fields they are checked against).

    @field_validator("finalized")
    @classmethod
    def _finalized_matches_date(cls, finalized: bool | None, info: ValidationInfo) -> bool | None:
        if finalized is False and info.data.get("date_released") is not None:
            raise ValueError("finalized: false contradicts date_released (a release date finalizes a release)")
        return finalized

    @field_validator("deploys")
    @classmethod
    def _deploys_listable(cls, deploys: list[DeployEntry], info: ValidationInfo) -> list[DeployEntry]:
        projects = info.data.get("projects") or []
        unknown = sorted({p for d in deploys for p in d.projects or []} - set(projects))
        if projects and unknown:
            raise ValueError(f"deploys name projects that are not in the release: {', '.join(unknown)}")
        # Sentry lists only the latest deploy per project x environment: a second deploy to
        # the same environment and projects would hide the first one, which would then be
        # created again on every apply.
        for index, deploy in enumerate(deploys):
            for other in deploys[:index]:
                if other.environment == deploy.environment and _overlap(other, deploy, projects):
                    raise ValueError(
                        f"two deploys to environment {deploy.environment!r} for the same projects: "
                        "Sentry lists only the latest deploy per project and environment, "
                        "so declare one deploy per environment")
        return deploys


def _overlap(a: DeployEntry, b: DeployEntry, release_projects: list[str]) -> bool:
    return bool(set(a.projects or release_projects) & set(b.projects or release_projects))


def _release_path(organization: str, version: str | None = None) -> str:
    base = f"organizations/{path_segment(organization)}/releases/"
    return f"{base}{path_segment(version)}/" if version is not None else base


def _owner_name(owner: Any) -> str | None:
    if isinstance(owner, dict):
        return owner.get("email") or owner.get("username") or owner.get("name")
    return str(owner) if owner else None


def _diff_fields(change: ResourceChange) -> set[str]:
    return {str(fc.path[0]) for fc in change.diff if fc.path}


class ReleaseKind(ResourceKind[ReleaseEntry]):
    name = "release"
    section = "releases"
    entry_model = ReleaseEntry
    id_path_segments = ("releases",)  # versions and issue ids can look like words
    title = "A release (version, projects, refs, finalization) and its deploys."

    def key(self, entry: ReleaseEntry) -> str:
        return entry.version

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data["version"])

    def children(self, entry: ReleaseEntry) -> list[tuple[str, BaseModel, FieldPath]]:
        return [("deploy", d.with_version(entry.version), ("deploys", i))
                for i, d in enumerate(entry.deploys)]

    def references(self, entry: ReleaseEntry) -> list[Reference]:
        return [Reference("project", slug, ("projects", i)) for i, slug in enumerate(entry.projects)]

    # ---- payloads ------------------------------------------------------------------------

    def build_payload(self, entry: ReleaseEntry, *, directory: Directory) -> dict[str, Any]:
        payload: dict[str, Any] = {"version": entry.version, "projects": sorted(entry.projects),
                                   **present(entry, ("ref", "url"))}
        if entry.date_released is not None:
            payload["dateReleased"] = format_instant(entry.date_released)
        elif entry.finalized:
            payload["dateReleased"] = format_instant(_finalize_time(entry))
        elif entry.finalized is False:
            payload["dateReleased"] = None
        if entry.commits is not None:
            payload["commits"] = [_commit_payload(c) for c in entry.commits]
        if entry.refs is not None:
            payload["refs"] = [_ref_payload(r) for r in entry.refs]
        payload.update(present(entry, ("status", "owner")))
        if entry.raw:
            payload.update(entry.raw)
        return payload

    # ---- comparison and export -------------------------------------------------------------

    def canonical(self, entry: ReleaseEntry, *, directory: Directory) -> dict[str, Any]:
        # `owner` is set on create only (Sentry's PUT has no owner): sent, never compared.
        out: dict[str, Any] = {"version": entry.version, "projects": sorted(set(entry.projects)),
                               **present(entry, ("ref", "url", "status", "finalized"))}
        if entry.date_released is not None:
            out["date_released"] = format_instant(entry.date_released)
        return out

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> ReleaseEntry:
        released = live_instant(data.get("dateReleased"))
        projects = sorted({str(p.get("slug")) for p in data.get("projects") or [] if isinstance(p, dict)})
        return ReleaseEntry.model_construct(
            version=str(data["version"]),
            projects=projects,
            ref=data.get("ref") or None,
            url=data.get("url") or None,
            date_released=released,
            finalized=released is not None,
            commits=None,
            refs=None,
            status=data.get("status") or None,
            owner=_owner_name(data.get("owner")),
            deploys=[],
            raw=None,
        )

    def export(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        dumped = super().export(data, directory=directory)
        dumped.pop("finalized", None)  # date_released carries it
        if dumped.get("status") == "open":  # Sentry's default
            dumped.pop("status")
        dumped.pop("deploys", None)
        return dumped

    # ---- API calls ------------------------------------------------------------------------

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        params: dict[str, Any] = {"per_page": 100}
        ids = [ctx.directory.project_id(p) for p in ctx.projects]
        if ids and all(ids) and len(ids) <= MAX_PROJECT_FILTER:
            # A release linked only to projects out of scope is missed; harmless, since a
            # create is get-or-create and links the declared projects. (Many projects: no
            # filter, which keeps the URL short and reads the same releases.)
            params["project"] = sorted(ids, key=lambda i: (len(i), i))
        # Sentry lists only open releases unless asked: read both statuses, so an archived
        # release is matched rather than planned as a create.
        return [ListRequest(ApiRequest("GET", _release_path(ctx.organization),
                                       params={**params, "status": status}))
                for status in ("open", "archived")]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", _release_path(organization), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """PUT for ref/url/date/status; a POST when only the project list changed."""
        changed = _diff_fields(change)
        if changed and changed <= {"projects"}:
            return self.create_request(organization, change)
        body = {k: v for k, v in (change.payload or {}).items() if k in PUT_FIELDS}
        return ApiRequest("PUT", _release_path(organization, change.key), json=body)

    def update_requests(self, organization: str, change: ResourceChange) -> list[ApiRequest]:
        """Every call an update needs: adding projects (POST) and then the other fields (PUT)."""
        changed = _diff_fields(change)
        if "projects" in changed and changed - {"projects"}:
            body = {k: v for k, v in (change.payload or {}).items() if k in PUT_FIELDS}
            return [self.create_request(organization, change),
                    ApiRequest("PUT", _release_path(organization, change.key), json=body)]
        return [self.update_request(organization, change)]

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", _release_path(organization, change.key))

    def create_is_idempotent(self) -> bool:
        return True


def _finalize_time(entry: ReleaseEntry) -> datetime:
    """`finalized: true` without a date: the last declared deploy's end, else now (plan time)."""
    finished = [d.date_finished for d in entry.deploys if d.date_finished is not None]
    return max(finished) if finished else datetime.now(UTC).replace(microsecond=0)


def _commit_payload(commit: CommitEntry) -> dict[str, Any]:
    out = commit.model_dump(exclude_none=True)
    if commit.timestamp is not None:
        out["timestamp"] = format_instant(commit.timestamp)
    return out


def _ref_payload(ref: RefEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"repository": ref.repository, "commit": ref.commit}
    if ref.previous_commit is not None:
        out["previousCommit"] = ref.previous_commit
    return out


register(ReleaseKind())
