"""Safety is a property of the plan (octoDNS's TooMuchChange habit): thresholds and alert gates.

Each finding carries its numbers or its reason; apply refuses a plan with findings unless
`--force`. Gates read the Sentry request body (`change.payload`) and the raw live object, so
they see what would really be sent whatever friendly form the manifest used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .changes import Action, ResourceChange, SafetyFinding
from .state import ManifestSettings

PAGER_PROVIDERS = ("pagerduty", "opsgenie")


def threshold_findings(changes: Iterable[ResourceChange], existing: dict[str, int],
                       settings: ManifestSettings) -> list[SafetyFinding]:
    """Per kind: updates or deletes over the allowed share of existing live objects."""
    updates: Counter[str] = Counter()
    deletes: Counter[str] = Counter()
    for change in changes:
        if change.action is Action.UPDATE:
            updates[change.kind] += 1
        elif change.action is Action.DELETE:
            deletes[change.kind] += 1
    findings: list[SafetyFinding] = []
    for kind in sorted(existing):
        total = existing[kind]
        if total < settings.min_existing or total == 0:
            continue
        for code, verb, count, limit in (
            ("too-many-updates", "updates", updates[kind], settings.max_update_percent),
            ("too-many-deletes", "deletes", deletes[kind], settings.max_delete_percent),
        ):
            share = 100.0 * count / total
            if share > limit:
                findings.append(SafetyFinding(
                    code=code, kind=kind,
                    message=(f"{kind}: too many {verb}, {share:.0f}% is over {limit:g}% "
                             f"({count}/{total}), --force required"),
                ))
    return findings


def gate_findings(changes: Iterable[ResourceChange]) -> list[SafetyFinding]:
    """Alert gates: match-everything issue alerts, alerts with no action, pager deletes."""
    findings: list[SafetyFinding] = []
    for change in changes:
        if change.kind == "issue_alert":
            findings += _issue_alert_gates(change)
        elif change.kind == "metric_alert":
            findings += _metric_alert_gates(change)
    return findings


def _finding(code: str, change: ResourceChange, reason: str) -> SafetyFinding:
    return SafetyFinding(code=code, kind=change.kind, key=change.key,
                         message=f"{change.address}: {reason}, --force required")


def _issue_alert_gates(change: ResourceChange) -> list[SafetyFinding]:
    if change.action is Action.DELETE:
        return _pager_delete(change, _issue_alert_pager(change.live or {}))
    body = change.payload or {}
    found: list[SafetyFinding] = []
    filters = body.get("filters") or []
    match = body.get("filterMatch") or "all"
    had_filters = bool((change.live or {}).get("filters"))
    if not filters and match == "all" and (not body.get("conditions") or had_filters):
        reason = ("the update removes every filter while filter_match is 'all'"
                  if had_filters else
                  "no conditions and no filters with filter_match 'all'")
        found.append(_finding("match-everything", change,
                              f"{reason}: it would match every issue"))
    if not body.get("actions"):
        found.append(_finding("no-action", change,
                              "the alert has no action: it would notify no one"))
    return found


def _metric_alert_gates(change: ResourceChange) -> list[SafetyFinding]:
    if change.action is Action.DELETE:
        return _pager_delete(change, _metric_alert_pager(change.live or {}))
    triggers = (change.payload or {}).get("triggers") or []
    empty = [str(t.get("label", i)) for i, t in enumerate(triggers) if not t.get("actions")]
    if not triggers or empty:
        which = f"trigger {', '.join(empty)} has" if empty else "it has"
        return [_finding("no-action", change, f"{which} no action: it would notify no one")]
    return []


def _pager_delete(change: ResourceChange, providers: set[str]) -> list[SafetyFinding]:
    if not providers:
        return []
    return [_finding("pager-delete", change,
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
