"""The pure planner: matching, create/update/delete/no-op, notes, prune scopes, targets,
safety thresholds and gates, field diffs with manifest positions, cosmetic counts.

Desired state comes from real manifest files (the loader); live state is Sentry's JSON as
REFERENCE.md §1.5 documents it, built by hand so each hazard is explicit.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from dexter_sync.core.changes import Action, NoteReason
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory, Integration
from dexter_sync.core.planning import make_plan, parse_targets
from dexter_sync.core.state import LiveObject, LiveState
from dexter_sync.kinds.registry import catalog
from dexter_sync.manifest import load_manifests
from dexter_sync.render.jsonplan import render_json

TEAM_ID = "7"


def directory() -> Directory:
    return Directory(
        organization="acme", projects={"backend": "11", "frontend": "12"},
        teams={"backend-team": TEAM_ID}, members={"ana@example.com": "31"},
        integrations={"90": Integration("90", "acme-pd", "pagerduty")},
        environments={"production"},
    )


def manifests(tmp_path: Path, body: str, settings: str = "") -> Path:
    (tmp_path / "dexter.yaml").write_text(
        "version: 1\norganization: acme\ninclude: [rules.yaml]\n" + textwrap.dedent(settings))
    (tmp_path / "rules.yaml").write_text(textwrap.dedent(body))
    return tmp_path


def rule_yaml(name: str, threshold: int = 100, window: str = "5m") -> str:
    return f"""
      - name: {name}
        project: backend
        aggregate: count()
        time_window: {window}
        triggers:
          critical:
            threshold: {threshold}
            actions:
              - email: {{team: backend-team}}
    """


def live_rule(name: str, rule_id: str, threshold: float = 100.0, window: float = 5.0,
              action_type: str = "email") -> dict:
    """A metric rule as Sentry's list endpoint returns it (floats, server fields, ids)."""
    action = {"id": f"{rule_id}1", "alertRuleTriggerId": f"{rule_id}0", "type": "email",
              "targetType": "team", "targetIdentifier": TEAM_ID, "inputChannelId": None,
              "integrationId": None, "sentryAppId": None, "dateCreated": "2024-01-01T00:00:00Z",
              "desc": "Send an email to members of #backend-team", "priority": None}
    if action_type == "pagerduty":
        action.update(type="pagerduty", targetType="specific", targetIdentifier=4242,
                      integrationId=90, priority="critical")
    return {
        "id": rule_id, "name": name, "organizationId": "1", "status": 0, "queryType": 0,
        "dataset": "events", "query": "", "aggregate": "count()", "thresholdType": 0,
        "resolveThreshold": None, "timeWindow": window, "resolution": 1.0,
        "thresholdPeriod": 1, "environment": None, "projects": ["backend"], "owner": None,
        "comparisonDelta": None, "dateModified": "2024-01-01T00:00:00Z",
        "dateCreated": "2024-01-01T00:00:00Z", "createdBy": {"id": 1, "name": "x", "email": "x"},
        "description": "", "sensitivity": None, "seasonality": None, "detectionType": "static",
        "triggers": [{"id": f"{rule_id}0", "alertRuleId": rule_id, "label": "critical",
                      "thresholdType": 0, "alertThreshold": threshold, "resolveThreshold": None,
                      "dateCreated": "2024-01-01T00:00:00Z", "actions": [action]}],
    }


def live_state(*rules: dict) -> LiveState:
    objects = [LiveObject("metric_alert", r["name"], r["id"], r) for r in rules]
    return LiveState(directory(), {"metric_alert": objects})


def test_unchanged_rule_with_sentry_formatting_is_a_no_op(tmp_path):
    desired = load_manifests(manifests(tmp_path, "metric_alerts:" + rule_yaml("Errors")))
    plan = make_plan(desired, live_state(live_rule("Errors", "1")), kinds=catalog())
    assert plan.changes == [] and plan.unchanged == 1
    assert not plan.has_changes
    # the floats and server fields Sentry added were seen and counted, not hidden silently
    assert plan.cosmetic.get("server-field", 0) > 0
    assert sum(plan.cosmetic.values()) == len(plan.cosmetic_details)


def test_create_update_and_unmanaged(tmp_path):
    body = "metric_alerts:" + rule_yaml("New") + rule_yaml("Changed", threshold=90)
    plan = make_plan(load_manifests(manifests(tmp_path, body)),
                     live_state(live_rule("Changed", "2"), live_rule("Stray", "3")), kinds=catalog())
    actions = {(c.action, c.key) for c in plan.changes}
    assert actions == {(Action.CREATE, "New"), (Action.UPDATE, "Changed")}
    update = next(c for c in plan.changes if c.action is Action.UPDATE)
    assert [(d.path, d.before, d.after) for d in update.diff] == [
        (("triggers", "critical", "threshold"), 100, 90)]
    # the diff points at the manifest line of the changed threshold
    span = update.diff[0].span
    assert span.file.endswith("rules.yaml")
    line = (tmp_path / "rules.yaml").read_text().splitlines()[span.line - 1]
    assert "threshold: 90" in line
    assert update.payload["triggers"][0]["alertThreshold"] == 90
    assert update.live["id"] == "2" and update.live_id == "2"
    create = next(c for c in plan.changes if c.action is Action.CREATE)
    assert create.payload["name"] == "New" and create.span is not None
    assert [(n.reason, n.key) for n in plan.notes] == [(NoteReason.UNMANAGED, "Stray")]


def test_prune_deletes_undeclared_objects_only_when_enabled(tmp_path):
    body = "metric_alerts:" + rule_yaml("Keep")
    live = live_state(live_rule("Keep", "1"), live_rule("Old", "2"))
    off = make_plan(load_manifests(manifests(tmp_path, body)), live, kinds=catalog())
    assert off.changes == [] and off.count_notes(NoteReason.UNMANAGED) == 1
    on = make_plan(load_manifests(manifests(tmp_path, body, "prune: {metric_alerts: true}\n")),
                   live, kinds=catalog())
    assert [(c.action, c.key, c.live_id) for c in on.changes] == [(Action.DELETE, "Old", "2")]
    assert on.notes == []


def test_per_project_prune_spares_other_projects(tmp_path):
    body = "metric_alerts:" + rule_yaml("Keep")
    other = live_rule("Frontend rule", "3")
    other["projects"] = ["frontend"]
    live = live_state(live_rule("Keep", "1"), live_rule("Old", "2"), other)
    plan = make_plan(load_manifests(manifests(tmp_path, body,
                                              "prune: {metric_alerts: [backend]}\n")), live, kinds=catalog())
    assert [c.key for c in plan.changes if c.action is Action.DELETE] == ["Old"]
    assert [n.key for n in plan.notes] == ["Frontend rule"]


def test_ambiguous_keys_are_never_touched(tmp_path):
    body = "metric_alerts:" + rule_yaml("Twin", threshold=5)
    live = live_state(live_rule("Twin", "1"), live_rule("Twin", "2"))
    plan = make_plan(load_manifests(manifests(tmp_path, body, "prune: {metric_alerts: true}\n")),
                     live, kinds=catalog())
    assert plan.changes == []
    assert [(n.reason, n.key, n.live_ids) for n in plan.notes] == [
        (NoteReason.AMBIGUOUS, "Twin", ("1", "2"))]
    assert json.loads(render_json(plan))["summary"]["ambiguous"] == 1


def test_target_limits_the_plan(tmp_path):
    body = "metric_alerts:" + rule_yaml("A", threshold=1) + rule_yaml("B", threshold=2)
    live = live_state(live_rule("A", "1"), live_rule("B", "2"))
    desired = load_manifests(manifests(tmp_path, body))
    plan = make_plan(desired, live, targets=parse_targets(["metric_alert/B"], catalog()), kinds=catalog())
    assert [c.key for c in plan.changes] == ["B"]
    with pytest.raises(DexterError) as missing:
        make_plan(desired, live, targets=parse_targets(["metric_alert/C"], catalog()), kinds=catalog())
    assert missing.value.code == "unknown-target"
    with pytest.raises(DexterError) as unknown:
        parse_targets(["metric_alrt/A"], catalog())
    assert "did you mean 'metric_alert'" in str(unknown.value)


def test_threshold_breach_names_the_numbers(tmp_path):
    rules = [live_rule(f"R{i}", str(i)) for i in range(10)]
    body = "metric_alerts:" + "".join(rule_yaml(f"R{i}", threshold=100 + (i < 6))
                                      for i in range(10))
    plan = make_plan(load_manifests(manifests(tmp_path, body)), live_state(*rules), kinds=catalog())
    assert plan.count(Action.UPDATE) == 6
    assert [(f.code, f.kind) for f in plan.safety] == [("too-many-updates", "metric_alert")]
    assert "60% is over 50% (6/10), --force required" in plan.safety[0].message
    # under the floor of existing objects, thresholds do not apply
    small = make_plan(load_manifests(manifests(tmp_path, body, "safety: {min_existing: 11}\n")),
                      live_state(*rules), kinds=catalog())
    assert small.safety == []


def test_deleting_a_paging_alert_is_gated(tmp_path):
    body = "metric_alerts:" + rule_yaml("Keep")
    live = live_state(live_rule("Keep", "1"), live_rule("Pager", "2", action_type="pagerduty"))
    plan = make_plan(load_manifests(manifests(tmp_path, body, "prune: {metric_alerts: true}\n")),
                     live, kinds=catalog())
    assert [(f.code, f.key) for f in plan.safety] == [("pager-delete", "Pager")]
    assert "pagerduty" in plan.safety[0].message


def test_planning_twice_gives_identical_json(tmp_path):
    body = "metric_alerts:" + rule_yaml("A", threshold=1) + rule_yaml("C")
    desired = load_manifests(manifests(tmp_path, body))
    live = live_state(live_rule("A", "1"), live_rule("B", "2"))
    first = render_json(make_plan(desired, live, kinds=catalog()))
    second = render_json(make_plan(load_manifests(tmp_path), live_state(
        live_rule("B", "2"), live_rule("A", "1")), kinds=catalog()))
    assert first == second
    assert json.loads(first)["summary"] == {"create": 1, "update": 1, "delete": 0,
                                            "unchanged": 0, "unmanaged": 1, "ambiguous": 0}


def test_fingerprints_cover_every_live_object_and_ignore_cosmetics(tmp_path):
    desired = load_manifests(manifests(tmp_path, "metric_alerts:" + rule_yaml("A")))
    a = live_rule("A", "1")
    plan = make_plan(desired, live_state(a, live_rule("B", "2")), kinds=catalog())
    assert sorted(plan.fingerprints) == ["metric_alert/A", "metric_alert/B"]
    reformatted = json.loads(json.dumps(a))
    reformatted["timeWindow"] = 5  # int instead of float: the same rule
    again = make_plan(desired, live_state(reformatted, live_rule("B", "2")), kinds=catalog())
    assert again.fingerprints == plan.fingerprints
