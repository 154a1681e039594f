"""Sentry integration-platform webhooks (REFERENCE.md §13) -> watch events.

`verify` checks `Sentry-Hook-Signature`: lowercase hex HMAC-SHA256 of the exact raw body
with the app's client secret, compared in constant time. `to_events` maps `issue` and
`metric_alert` deliveries to `issue.*` / `incident.*` events; other resources and actions
are accepted and ignored (Sentry adds new ones over time).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from .events import WatchEvent, as_object

SIGNATURE_HEADER = "sentry-hook-signature"
RESOURCE_HEADER = "sentry-hook-resource"
SECRET_ENV = "DEXTER_WEBHOOK_SECRET"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str | None, body: bytes, signature: str | None) -> bool:
    """False without a configured secret or a signature: an unsigned hook is never trusted."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature.strip().encode())


def _issue_event(kind: str, organization: str, issue: dict[str, Any],
                 action: str) -> WatchEvent:
    project = as_object(issue.get("project"))
    return WatchEvent(kind, organization, "issue", str(issue.get("shortId") or issue.get("id")),
                      {"id": str(issue.get("id")), "short_id": issue.get("shortId"),
                       "title": issue.get("title"), "culprit": issue.get("culprit"),
                       "level": issue.get("level"), "project": project.get("slug"),
                       "first_seen": issue.get("firstSeen"), "last_seen": issue.get("lastSeen"),
                       "count": issue.get("count"), "permalink": issue.get("web_url"),
                       "source": "webhook", "action": action})


def _incident_event(kind: str, organization: str, data: dict[str, Any],
                    action: str) -> WatchEvent:
    incident = as_object(data.get("metric_alert"))
    rule = as_object(incident.get("alert_rule"))
    return WatchEvent(kind, organization, "incident", str(incident.get("identifier")),
                      {"id": incident.get("id"), "identifier": incident.get("identifier"),
                       "title": incident.get("title") or data.get("description_title"),
                       "status": incident.get("status"), "projects": incident.get("projects"),
                       "alert_rule": {"id": rule.get("id"), "name": rule.get("name")},
                       "date_started": incident.get("date_started"),
                       "date_closed": incident.get("date_closed"),
                       "description": data.get("description_text"),
                       "web_url": data.get("web_url"), "source": "webhook",
                       "action": action})


def to_events(resource: str, payload: Any, organization: str) -> list[WatchEvent] | None:
    """The events of one delivery; None when the body is not Sentry's envelope."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return None
    action, data = str(payload.get("action") or ""), payload["data"]
    if resource == "issue" and isinstance(data.get("issue"), dict):
        issue = data["issue"]
        if action == "created":
            return [_issue_event("issue.new", organization, issue, action)]
        if action == "unresolved" and issue.get("substatus") == "regressed":
            return [_issue_event("issue.regressed", organization, issue, action)]
        return []
    if resource == "metric_alert" and isinstance(data.get("metric_alert"), dict):
        if action in ("critical", "warning"):
            return [_incident_event("incident.opened", organization, data, action)]
        if action == "resolved":
            return [_incident_event("incident.resolved", organization, data, action)]
    return []
