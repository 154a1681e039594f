"""Safety gates of alert kinds (their `safety_findings` hooks): an alert that would notify no
one or match every issue, and the delete of an alert that pages someone.

Gates read the Sentry request body (`change.payload`) and the raw live object, so they see
what would really be sent whatever friendly form the manifest used.
"""

from __future__ import annotations

from typing import Any

from ..core.changes import Action, ResourceChange, SafetyFinding
from ..core.safety import gate_finding

PAGER_PROVIDERS = ("pagerduty", "opsgenie")


def issue_alert_gates(change: ResourceChange) -> list[SafetyFinding]:
    if change.action is Action.DELETE:
        return pager_delete(change, _issue_alert_pager(change.live or {}))
    body = change.payload or {}
    found: list[SafetyFinding] = []
    filters = body.get("filters") or []
    match = body.get("filterMatch") or "all"
    had_filters = bool((change.live or {}).get("filters"))
    if not filters and match == "all" and (not body.get("conditions") or had_filters):
        reason = ("the update removes every filter while filter_match is 'all'"
                  if had_filters else
                  "no conditions and no filters with filter_match 'all'")
        found.append(gate_finding("match-everything", change,
                                  f"{reason}: it would match every issue"))
    if not body.get("actions"):
        found.append(gate_finding("no-action", change,
                                  "the alert has no action: it would notify no one"))
    return found


def metric_alert_gates(change: ResourceChange) -> list[SafetyFinding]:
    if change.action is Action.DELETE:
        return pager_delete(change, _metric_alert_pager(change.live or {}))
    triggers = (change.payload or {}).get("triggers") or []
    empty = [str(t.get("label", i)) for i, t in enumerate(triggers) if not t.get("actions")]
    if not triggers or empty:
        which = f"trigger {', '.join(empty)} has" if empty else "it has"
        return [gate_finding("no-action", change, f"{which} no action: it would notify no one")]
    return []


def pager_delete(change: ResourceChange, providers: set[str]) -> list[SafetyFinding]:
    """A finding when the deleted alert pages through one of `providers`."""
    if not providers:
        return []
    return [gate_finding("pager-delete", change,
                         f"deleting an alert that pages through {', '.join(sorted(providers))}")]


def _issue_alert_pager(live: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for action in live.get("actions") or []:
        node_id = str(action.get("id", "")).lower()
        found.update(p for p in PAGER_PROVIDERS if p in node_id)
    return found


def _metric_alert_pager(live: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for trigger in live.get("triggers") or []:
        for action in trigger.get("actions") or []:
            kind = str(action.get("type", "")).lower()
            if kind in PAGER_PROVIDERS:
                found.add(kind)
    return found
