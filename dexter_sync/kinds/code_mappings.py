"""Kind `code_mapping`: a stack-trace root -> source root mapping of a project onto a
repository (REFERENCE.md §8), in `integration_links`.

Keyed by `<project>/<repository>/<stack_root>`. Sentry itself keeps (project, stack_root)
unique and returns the roots exactly as stored, so they are compared verbatim. The
integration defaults to the repository's own.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..core.changes import ResourceChange
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .registry import register

# Sentry's RepositoryProjectPathConfigSerializer rules.
PATH_PATTERN = r"^[^\s'\"]*$"
BRANCH_PATTERN = r"^[\w.-](?:[\w./-]*[\w.-])?$"  # no leading or trailing `/`


class CodeMappingEntry(EntryModel):
    """A code mapping (`integration_links[]` with `type: code_mapping`)."""

    project: str = Field(min_length=1, description="Project slug.")
    repository: str = Field(min_length=1, description="Repository name, e.g. `acme/backend`.")
    stack_root: str = Field(pattern=PATH_PATTERN, description="Path prefix in stack traces (may be empty; no spaces or quotes).")
    source_root: str = Field(pattern=PATH_PATTERN, description="Matching path in the repository (may be empty; no spaces or quotes).")
    default_branch: str | None = Field(
        None, pattern=BRANCH_PATTERN,
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
                Reference("repository", entry.repository, ("repository",))]
        if entry.integration is not None:
            refs.append(Reference("integration", entry.integration, ("integration",)))
        return refs

    def build_payload(self, entry: CodeMappingEntry, *, directory: Directory) -> dict[str, Any]:
        project_id = directory.project_id(entry.project)
        repository = directory.repository(entry.repository)
        if project_id is None:
            raise DexterError(f"code mapping: unknown project {entry.project!r}", code="unknown-reference")
        if repository is None:
            # A repository created in the same apply gets its id only then.
            raise DexterError(f"code mapping: repository {entry.repository!r} is not in Sentry (yet)",
                              code="unresolved-reference")
        integration_id = repository.integration_id
        if entry.integration is not None:
            integration = directory.integration(entry.integration)
            if integration is None:
                raise DexterError(f"code mapping: unknown integration {entry.integration!r}",
                                  code="unknown-reference")
            integration_id = integration.id
        payload: dict[str, Any] = {
            "projectId": _int_id(project_id),
            "repositoryId": _int_id(repository.id),
            "integrationId": _int_id(integration_id) if integration_id else None,
            "stackRoot": entry.stack_root,
            "sourceRoot": entry.source_root,
        }
        if entry.default_branch is not None:
            payload["defaultBranch"] = entry.default_branch
        return payload

    def canonical(self, entry: CodeMappingEntry, *, directory: Directory) -> dict[str, Any]:
        out: dict[str, Any] = {
            "project": entry.project,
            "repository": entry.repository,
            "stack_root": entry.stack_root,
            "source_root": entry.source_root,
        }
        for field_name in ("default_branch", "integration"):
            value = getattr(entry, field_name)
            if value is not None:
                out[field_name] = value
        return out

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> CodeMappingEntry:
        integration_id = data.get("integrationId")
        integration = directory.integration(integration_id) if integration_id else None
        return CodeMappingEntry.model_construct(
            project=str(data.get("projectSlug") or directory.project_slug(data.get("projectId", ""))
                        or data.get("projectId")),
            repository=str(data.get("repoName") or _repo_name(directory, data.get("repoId"))),
            stack_root=str(data.get("stackRoot") or ""),
            source_root=str(data.get("sourceRoot") or ""),
            default_branch=data.get("defaultBranch") or None,
            integration=integration.name if integration else (str(integration_id) if integration_id else None),
        )

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        # project=-1: every project the token can see (not only the member's projects).
        return [ListRequest(ApiRequest("GET", _mappings_path(ctx.organization),
                                       params={"project": -1, "per_page": 100}))]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", _mappings_path(organization), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("PUT", _mappings_path(organization, _live_id(change)), json=change.payload)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", _mappings_path(organization, _live_id(change)))


def _repo_name(directory: Directory, repo_id: Any) -> str:
    repository = directory.repository(repo_id) if repo_id is not None else None
    return repository.name if repository else str(repo_id)


def _live_id(change: ResourceChange) -> str:
    if not change.live_id:
        raise DexterError(f"{change.address}: no live id to address", code="missing-live-id")
    return change.live_id


register(CodeMappingKind())
