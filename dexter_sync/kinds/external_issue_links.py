"""Kind `external_issue_link`: a Sentry issue linked to an existing ticket of an issue-tracker
integration (Jira, GitHub, ...), in `integration_links` (REFERENCE.md §9.2).

Keyed by `<issue>/<integration>/<external key>`, where the issue is written as in the
manifest (short id such as `BACKEND-12`, or numeric id; Sentry's issue paths accept both).
dexter only links existing tickets (PUT, never the POST that opens a new ticket), unlinks with
DELETE `?externalIssue=<link id>`, and reads the links of declared issues only, from each
issue's `integrations/` listing: the issue-tracker integrations, each with its
`externalIssues`. That listing is the one read that names the integration id; the issue
detail carries links only with `?expand=integrationIssues`, and then without the id.
Every compared field is part of the key, so a link is never updated.

The PUT path needs the integration id, which only the Directory knows; `build_payload`
therefore carries it under ROUTE_KEY, and `create_request` strips that key from the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..core.changes import ResourceChange
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .fields import matching
from .registry import register
from .repositories import ProviderKey

ISSUE_PATTERN = r"^(\d+|[A-Za-z0-9][A-Za-z0-9_-]*-[A-Za-z0-9]+)$"
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    IssueId = str
else:
    IssueId = matching(ISSUE_PATTERN, "an issue is a short id such as `BACKEND-12` or a numeric id")
ROUTE_KEY = "_route"
"""Payload key holding path parameters (never sent: `create_request` strips it)."""


class ExternalIssueLinkEntry(EntryModel):
    """A link from a Sentry issue to an existing external ticket (`type: external_issue`)."""

    issue: IssueId = Field(description="Sentry issue: short id (`BACKEND-12`) or numeric id.")
    integration: str = Field(min_length=1, description="Name of the issue-tracker integration (Jira site, GitHub org, ...).")
    provider: ProviderKey | None = Field(
        None, description="Provider key of the integration (`jira`, `github`, ...), checked at plan time.")
    key: str = Field(min_length=1, description="The external ticket's key, e.g. `PROJ-123` (GitHub: `owner/repo#123`).")
    comment: str | None = Field(None, description="Comment the provider adds to the ticket when linking (sent, not compared).")
    raw: dict[str, Any] | None = Field(
        None, description="Provider link-form fields passed through (e.g. GitHub `repo`, `externalIssue`); sent, not compared.")

    @field_validator("issue", mode="before")
    @classmethod
    def _numeric_issue(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _issue_path(organization: str, issue: str) -> str:
    return f"organizations/{path_segment(organization)}/issues/{path_segment(issue)}/"


def _link_path(organization: str, issue: str, integration_id: str) -> str:
    return f"{_issue_path(organization, issue)}integrations/{path_segment(integration_id)}/"


def _integration_name(directory: Directory, data: dict[str, Any]) -> str:
    if data.get("integrationName"):
        return str(data["integrationName"])
    integration = directory.integration(data.get("integrationId", ""))
    return integration.name if integration else str(data.get("integrationId"))


class ExternalIssueLinkKind(ResourceKind[ExternalIssueLinkEntry]):
    name = "external_issue_link"
    section = "integration_links"
    not_exported = ("Sentry lists them per issue, so exporting them would read every issue; "
                    "declare the links you manage by hand")
    type_tag = "external_issue"
    entry_model = ExternalIssueLinkEntry
    id_path_segments = ("issues",)  # versions and issue ids can look like words
    updatable = False
    title = "A link from a Sentry issue to an existing ticket of an issue-tracker integration."

    def key(self, entry: ExternalIssueLinkEntry) -> str:
        return f"{entry.issue}/{entry.integration}/{entry.key}"

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        issue = parent or str(data.get("issue") or data.get("issueId") or "")
        return f"{issue}/{_integration_name(directory, data)}/{data['key']}"

    def references(self, entry: ExternalIssueLinkEntry) -> list[Reference]:
        return [Reference("issue", entry.issue, ("issue",)),
                Reference("integration", entry.integration, ("integration",), provider=entry.provider)]

    def build_payload(self, entry: ExternalIssueLinkEntry, *, directory: Directory) -> dict[str, Any]:
        integration = directory.integration(entry.integration, entry.provider)
        if integration is None:
            raise DexterError(f"external issue link: unknown integration {entry.integration!r}",
                              code="unknown-reference")
        payload: dict[str, Any] = {"externalIssue": entry.key}
        if entry.comment is not None:
            payload["comment"] = entry.comment
        payload.update(entry.raw or {})
        payload[ROUTE_KEY] = {"issue": entry.issue, "integration_id": integration.id}
        return payload

    def canonical(self, entry: ExternalIssueLinkEntry, *, directory: Directory) -> dict[str, Any]:
        out = {"issue": entry.issue, "integration": entry.integration, "key": entry.key}
        if entry.provider is not None:
            out["provider"] = entry.provider
        return out

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> ExternalIssueLinkEntry:
        integration = directory.integration(data.get("integrationId", ""))
        provider = integration.provider if integration else data.get("integrationKey")
        return ExternalIssueLinkEntry.model_construct(
            issue=str(data.get("issue") or data.get("issueId") or ""),
            provider=provider,
            integration=_integration_name(directory, data),
            key=str(data["key"]),
        )

    # ---- reads: the links of each declared issue -------------------------------------------

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        """The `integrations/` listing of each declared issue (REFERENCE.md §9.2)."""
        # Without the entry (a look-up by key after a failed write) the issue is the key's
        # first segment: `<issue>/<integration>/<external key>`.
        issues = sorted({r.entry.issue if isinstance(r.entry, ExternalIssueLinkEntry)
                         else r.key.split("/", 1)[0] for r in ctx.desired})
        return [ListRequest(ApiRequest("GET", f"{_issue_path(ctx.organization, issue)}integrations/"),
                            parent=issue, missing_ok=True)
                for issue in issues]

    def items(self, body: Any, listing: ListRequest) -> list[dict[str, Any]]:
        """One dict per link, with its integration's id (a string), name and provider, and the
        issue as declared. `body` is a page of integrations, each with `externalIssues`."""
        if not isinstance(body, list):
            raise DexterError(f"{listing.request.path}: expected a list of integrations, got "
                              f"{type(body).__name__}", code="unreadable-live")
        links: list[dict[str, Any]] = []
        for integration in body:
            if not isinstance(integration, dict) or integration.get("id") is None:
                continue
            provider = integration.get("provider")
            for link in integration.get("externalIssues") or []:
                if isinstance(link, dict) and link.get("key"):
                    links.append({**link, "integrationId": str(integration["id"]),
                                  "integrationName": integration.get("name"),
                                  "integrationKey": provider.get("key")
                                  if isinstance(provider, dict) else None,
                                  "issue": listing.parent})
        return links

    # ---- writes ------------------------------------------------------------------------

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """Link an existing ticket: PUT (POST would open a new ticket on every retry)."""
        body = dict(change.payload or {})
        route = body.pop(ROUTE_KEY, None) or {}
        if not route.get("integration_id"):
            raise DexterError(f"{change.address}: integration id unknown", code="unknown-reference")
        return ApiRequest("PUT", _link_path(organization, route["issue"], str(route["integration_id"])),
                          json=body)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        raise DexterError(f"{change.address}: a link has nothing to update (every field is its key)",
                          code="not-updatable")

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        live = change.live or {}
        issue = str(live.get("issue") or change.key.split("/", 1)[0])
        integration_id = live.get("integrationId")
        link_id = live.get("id") or change.live_id
        if not integration_id or not link_id:
            raise DexterError(f"{change.address}: no live link to remove", code="missing-live-id")
        return ApiRequest("DELETE", _link_path(organization, issue, str(integration_id)),
                          params={"externalIssue": str(link_id)})

    def create_is_idempotent(self) -> bool:
        # Linking the same key twice answers 400 "already linked" and creates nothing.
        return False


register(ExternalIssueLinkKind())
