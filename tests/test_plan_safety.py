"""Safety findings (pure): percentage thresholds with their floor, and the alert gates
(match-everything issue alerts, alerts with no action, deletes of paging alerts)."""

from __future__ import annotations

from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.safety import gate_findings, threshold_findings
from dexter_sync.core.state import ManifestSettings
from dexter_sync.kinds.registry import catalog

KINDS = catalog()

SETTINGS = ManifestSettings(organization="acme", root=".", max_delete_percent=30,
                            max_update_percent=50, min_existing=10)
EMAIL = {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}
FIRST_SEEN = {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}
LEVEL = {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"}


def change(action: Action, kind: str = "issue_alert", key: str = "backend/r", **kw):
    return ResourceChange(action=action, kind=kind, key=key, **kw)


def codes(findings) -> list[tuple[str, str | None]]:
    return [(f.code, f.key) for f in findings]


def test_deletes_over_the_share_need_force_once_enough_exist():
    deletes = [change(Action.DELETE, "metric_alert", f"r{i}") for i in range(4)]
    found = threshold_findings(deletes, {"metric_alert": 10}, SETTINGS)
    assert codes(found) == [("too-many-deletes", None)]
    assert found[0].message == ("metric_alert: too many deletes, 40% is over 30% (4/10), "
                                "--force required")
    assert threshold_findings(deletes[:3], {"metric_alert": 10}, SETTINGS) == []
    assert threshold_findings(deletes, {"metric_alert": 9}, SETTINGS) == []  # under the floor


def test_updates_are_counted_per_kind():
    updates = [change(Action.UPDATE, "metric_alert", f"m{i}") for i in range(6)]
    updates += [change(Action.UPDATE, "issue_alert", f"i{i}") for i in range(2)]
    found = threshold_findings(updates, {"metric_alert": 10, "issue_alert": 10}, SETTINGS)
    assert [(f.code, f.kind) for f in found] == [("too-many-updates", "metric_alert")]


def test_issue_alert_matching_every_issue_is_gated():
    everything = change(Action.CREATE, payload={"conditions": [], "filters": [],
                                                "filterMatch": "all", "actions": [EMAIL]})
    assert codes(gate_findings([everything], KINDS)) == [("match-everything", "backend/r")]
    # removing every filter of a live rule that had filters, with filter_match all
    widened = change(Action.UPDATE, payload={"conditions": [FIRST_SEEN], "filters": [],
                                             "filterMatch": "all", "actions": [EMAIL]},
                     live={"filters": [LEVEL], "actions": [EMAIL]})
    found = gate_findings([widened], KINDS)
    assert codes(found) == [("match-everything", "backend/r")]
    assert "removes every filter" in found[0].message and "--force required" in found[0].message
    # an ordinary rule with a condition and no filters is fine, and so is filter_match any
    ordinary = change(Action.CREATE, payload={"conditions": [FIRST_SEEN], "filters": [],
                                              "filterMatch": "all", "actions": [EMAIL]})
    narrowed = change(Action.UPDATE, payload={"conditions": [], "filters": [],
                                              "filterMatch": "any", "actions": [EMAIL]})
    assert gate_findings([ordinary, narrowed], KINDS) == []


def test_alerts_with_no_action_are_gated():
    silent_issue = change(Action.UPDATE, payload={"conditions": [FIRST_SEEN], "filters": [LEVEL],
                                                  "filterMatch": "all", "actions": []})
    silent_metric = change(Action.CREATE, "metric_alert", "m", payload={"triggers": [
        {"label": "critical", "alertThreshold": 1, "actions": [{"type": "email"}]},
        {"label": "warning", "alertThreshold": 0, "actions": []}]})
    found = gate_findings([silent_issue, silent_metric], KINDS)
    assert codes(found) == [("no-action", "backend/r"), ("no-action", "m")]
    assert "trigger warning has no action" in found[1].message


def test_deleting_an_alert_that_pages_is_gated():
    paging_issue = change(Action.DELETE, live={"actions": [
        {"id": "sentry.integrations.opsgenie.notify_action.OpsgenieNotifyTeamAction"}]})
    paging_metric = change(Action.DELETE, "metric_alert", "m", live={"triggers": [
        {"actions": [{"type": "email"}, {"type": "pagerduty"}]}]})
    quiet = change(Action.DELETE, "metric_alert", "q", live={"triggers": [
        {"actions": [{"type": "email"}]}]})
    found = gate_findings([paging_issue, paging_metric, quiet], KINDS)
    assert codes(found) == [("pager-delete", "backend/r"), ("pager-delete", "m")]
    assert "opsgenie" in found[0].message and "pagerduty" in found[1].message
