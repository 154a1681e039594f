"""Kind `code_mapping`: a stack-trace root -> source root mapping of a project onto a
repository (REFERENCE.md §8), in `integration_links`.

Keyed by `<project>/<repository>/<stack_root>`. Sentry itself keeps (project, stack_root)
unique and returns the roots exactly as stored, so they are compared verbatim. The
integration defaults to the repository's own.
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
from .repositories import live_integration_name

# Sentry's RepositoryProjectPathConfigSerializer rules.
PATH_PATTERN = r"^[^\s'\"]*$"
UNRESOLVED_KEY = "_unresolved"
"""Payload key naming a reference created by the same apply (never sent)."""
BRANCH_PATTERN = r"^[\w.-](?:[\w./-]*[\w.-])?$"  # no leading or trailing `/`


if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    PathRoot = str
else:
    PathRoot = matching(PATH_PATTERN, "a path may not contain spaces or quotes (Sentry's rule)")
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    BranchName = str
else:
    BranchName = matching(
        BRANCH_PATTERN, "a branch name may only have letters, digits, `_ . / -` and may not start or "
        "end with `/` (Sentry's rule)")


class CodeMappingEntry(EntryModel):
    """A code mapping (`integration_links[]` with `type: code_mapping`)."""

    project: str = Field(min_length=1, description="Project slug.")
    repository: str = Field(min_length=1, description="Repository name, e.g. `acme/backend`.")
    stack_root: PathRoot = Field(description="Path prefix in stack traces (may be empty; no spaces or quotes).")
    source_root: PathRoot = Field(description="Matching path in the repository (may be empty; no spaces or quotes).")
    default_branch: BranchName | None = Field(
        None,
        description="Branch to link to: letters, digits, `_ . / -`, not starting or ending with `/` (required by Sentry except for Perforce).")
    integration: str | None = Field(None, min_length=1, description="Integration name (default: the repository's integration).")


def _mappings_path(organization: str, mapping_id: str | None = None) -> str:
    base = f"organizations/{path_segment(organization)}/code-mappings/"
    return f"{base}{path_segment(mapping_id)}/" if mapping_id is not None else base


def _int_id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


class CodeMappingKind(ResourceKind[CodeMappingEntry]):
    name = "code_mapping"
    section = "integration_links"
    type_tag = "code_mapping"
    entry_model = CodeMappingEntry
    depends_on = ("repository",)
    title = "A code mapping from stack-trace paths of a project to a repository's source."

    def key(self, entry: CodeMappingEntry) -> str:
        return f"{entry.project}/{entry.repository}/{entry.stack_root}"

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        slug = data.get("projectSlug") or directory.project_slug(data.get("projectId", "")) or data.get("projectId")
        repo = data.get("repoName") or _repo_name(directory, data.get("repoId"))
        return f"{slug}/{repo}/{data.get('stackRoot') or ''}"

    def references(self, entry: CodeMappingEntry) -> list[Reference]:
        refs = [Reference("project", entry.project, ("project",)),
                Reference("repository", entry.repository, ("repository",), scope=entry.integration)]
        if entry.integration is not None:
            refs.append(Reference("integration", entry.integration, ("integration",)))
        return refs

    def build_payload(self, entry: CodeMappingEntry, *, directory: Directory) -> dict[str, Any]:
        project_id = directory.project_id(entry.project)
        if project_id is None:
            raise DexterError(f"code mapping: unknown project {entry.project!r}", code="unknown-reference")
        repository = directory.repository(entry.repository)
        integration_id = repository.integration_id if repository else None
        if entry.integration is not None:
            integration = directory.integration(entry.integration)
            if integration is None:
                raise DexterError(f"code mapping: unknown integration {entry.integration!r}",
                                  code="unknown-reference")
            integration_id = integration.id
        payload: dict[str, Any] = {
            "projectId": _int_id(project_id),
            "repositoryId": _int_id(repository.id) if repository else None,
            "integrationId": _int_id(integration_id) if integration_id else None,
            "stackRoot": entry.stack_root,
            "sourceRoot": entry.source_root,
        }
        if entry.default_branch is not None:
            payload["defaultBranch"] = entry.default_branch
        if repository is None:
            # Declared in the same manifests and created by this apply: its id does not exist
            # yet, so the plan still shows the create and `create_request` explains the wait.
            payload[UNRESOLVED_KEY] = f"repository {entry.repository!r}"
        return payload

    def canonical(self, entry: CodeMappingEntry, *, directory: Directory) -> dict[str, Any]:
        return {
            "project": entry.project,
            "repository": entry.repository,
            "stack_root": entry.stack_root,
            "source_root": entry.source_root,
            **present(entry, ("default_branch", "integration")),
        }

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> CodeMappingEntry:
        return CodeMappingEntry.model_construct(
            project=str(data.get("projectSlug") or directory.project_slug(data.get("projectId", ""))
                        or data.get("projectId")),
            repository=str(data.get("repoName") or _repo_name(directory, data.get("repoId"))),
            stack_root=str(data.get("stackRoot") or ""),
            source_root=str(data.get("sourceRoot") or ""),
            default_branch=data.get("defaultBranch") or None,
            integration=live_integration_name(directory, data.get("integrationId")),
        )

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        # project=-1: every project the token can see (not only the member's projects).
        return [ListRequest(ApiRequest("GET", _mappings_path(ctx.organization),
                                       params={"project": -1, "per_page": 100}))]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", _mappings_path(organization), json=_resolved(change))

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("PUT", _mappings_path(organization, _live_id(change)), json=_resolved(change))

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", _mappings_path(organization, _live_id(change)))


def _resolved(change: ResourceChange) -> dict[str, Any]:
    payload = dict(change.payload or {})
    missing = payload.pop(UNRESOLVED_KEY, None)
    if missing:
        raise DexterError(
            f"{change.address}: {missing} did not exist in Sentry when the plan was made; "
            "run plan and apply again now that it does", code="unknown-reference")
    return payload


def _repo_name(directory: Directory, repo_id: Any) -> str:
    repository = directory.repository(repo_id) if repo_id is not None else None
    return repository.name if repository else str(repo_id)


def _live_id(change: ResourceChange) -> str:
    if not change.live_id:
        raise DexterError(f"{change.address}: no live id to address", code="missing-live-id")
    return change.live_id


register(CodeMappingKind())
