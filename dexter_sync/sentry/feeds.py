"""What `dexter watch` polls besides configuration: recent issues, metric-alert incidents,
recent releases and the organization audit log, one list request each (REFERENCE.md §12).

Each answer must be in the documented shape (a list of objects; the audit log an object
with `rows`), else a SentryError: a proxy's HTML or a wrong JSON type is never "nothing
new".
"""

from __future__ import annotations

from typing import Any

from ..core.requests import ApiRequest, path_segment
from .errors import SentryError
from .gateway import Gateway

ISSUES_PER_POLL = 100
INCIDENTS_PER_POLL = 50
RELEASES_PER_POLL = 25
AUDIT_ROWS_PER_POLL = 100


def _objects(body: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise SentryError(f"Sentry answered the {what} list with {type(body).__name__}, "
                          "not a list of objects", code="unreadable-live")
    return body


async def _get(gateway: Gateway, path: str, **params: Any) -> Any:
    return (await gateway.request(ApiRequest("GET", path, params=params))).body


async def recent_issues(gateway: Gateway, organization: str) -> list[dict[str, Any]]:
    """The most recently seen unresolved issues (new and regressed ones are among them)."""
    body = await _get(gateway, f"organizations/{path_segment(organization)}/issues/",
                      query="is:unresolved", sort="date", statsPeriod="24h",
                      limit=ISSUES_PER_POLL, collapse="stats")
    return _objects(body, "issue")


async def recent_incidents(gateway: Gateway, organization: str) -> list[dict[str, Any]]:
    """The newest metric-alert incidents, open and closed (newest first)."""
    body = await _get(gateway, f"organizations/{path_segment(organization)}/incidents/",
                      per_page=INCIDENTS_PER_POLL)
    return _objects(body, "incident")


async def recent_releases(gateway: Gateway, organization: str) -> list[dict[str, Any]]:
    """The newest releases with their `lastDeploy`."""
    body = await _get(gateway, f"organizations/{path_segment(organization)}/releases/",
                      per_page=RELEASES_PER_POLL)
    return _objects(body, "release")


async def audit_rows(gateway: Gateway, organization: str) -> list[dict[str, Any]]:
    """The newest audit-log rows (`{"rows": [...], "options": [...]}` in Sentry)."""
    body = await _get(gateway, f"organizations/{path_segment(organization)}/audit-logs/",
                      per_page=AUDIT_ROWS_PER_POLL)
    if not isinstance(body, dict) or "rows" not in body:
        raise SentryError(f"Sentry answered the audit log with {type(body).__name__}, not "
                          "an object with rows", code="unreadable-live")
    return _objects(body["rows"], "audit-log row")
