"""Issue alerts firing on ingested events, recorded as Sentry's RuleFireHistory rows
(kind `rule_fire`), which the group-history endpoint (routes/alert_history.py) reads.

Conditions evaluated: first seen (a new issue), regression (a resolved issue seen again),
every event, and event frequency (more than `value` events of the issue within
`interval`); other conditions never match. `actionMatch` all/any/none combines them.
Filters are not evaluated (a simplification). As in Sentry, a rule fires at most once per
issue within its `frequency` minutes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from .eventtable import TABLE, ensure_table
from .store import Store

KIND = "rule_fire"
PREFIX = "sentry.rules.conditions."
FIRST_SEEN = PREFIX + "first_seen_event.FirstSeenEventCondition"
REGRESSION = PREFIX + "regression_event.RegressionEventCondition"
EVERY_EVENT = PREFIX + "every_event.EveryEventCondition"
FREQUENCY = PREFIX + "event_frequency.EventFrequencyCondition"
INTERVALS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400, "1w": 604800,
             "30d": 2592000}


def _frequency_met(store: Store, node: dict[str, Any], issue: dict[str, Any],
                   now_ms: int) -> bool:
    seconds = INTERVALS.get(str(node.get("interval")), 3600)
    try:
        value = float(node.get("value", 0))
    except (TypeError, ValueError):
        return False
    ensure_table(store)
    with store.connection() as db:
        count = db.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE group_id = ? AND ts >= ?",
                           (issue["id"], now_ms - seconds * 1000)).fetchone()[0]
    return bool(count > value)


def _matches(store: Store, rule: dict[str, Any], issue: dict[str, Any], *, new: bool,
             regressed: bool, now_ms: int) -> bool:
    results = []
    for node in rule.get("conditions") or []:
        cid = node.get("id")
        if cid == FIRST_SEEN:
            results.append(new)
        elif cid == REGRESSION:
            results.append(regressed)
        elif cid == EVERY_EVENT:
            results.append(True)
        elif cid == FREQUENCY:
            results.append(_frequency_met(store, node, issue, now_ms))
        else:
            results.append(False)
    if not results:
        return False
    match = rule.get("actionMatch") or "all"
    if match == "any":
        return any(results)
    if match == "none":
        return not any(results)
    return all(results)


def fire_rules(store: Store, org: dict[str, Any], project: dict[str, Any],
               issue: dict[str, Any], event_id: str, *, new: bool, regressed: bool,
               environment: str | None) -> list[int]:
    """Record a firing of every rule of the project this event triggers; their ids."""
    now_ms = int(time.time() * 1000)
    fired = []
    for rule in store.query("issue_rule", org["id"], scope=str(project["id"])):
        if rule.get("environment") and rule["environment"] != environment:
            continue
        if not _matches(store, rule, issue, new=new, regressed=regressed, now_ms=now_ms):
            continue
        window_ms = int(rule.get("frequency") or 30) * 60_000
        recent = [f for f in store.find(KIND, org["id"], scope=str(project["id"]),
                                        ruleId=rule["id"], groupId=issue["id"])
                  if f["ms"] > now_ms - window_ms]
        if recent:
            continue
        record_fire(store, org, project, rule_id=rule["id"], group_id=issue["id"],
                    event_id=event_id, ms=now_ms)
        fired.append(rule["id"])
    return fired


def record_fire(store: Store, org: dict[str, Any], project: dict[str, Any], *, rule_id: int,
                group_id: int, event_id: str | None, ms: int) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return store.insert(KIND, org["id"], {"ruleId": rule_id, "groupId": group_id,
                                          "eventId": event_id, "dateAdded": stamp, "ms": ms},
                        scope=str(project["id"]))
