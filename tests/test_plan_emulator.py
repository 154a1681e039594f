"""The planner against the emulator (in-process, over httpx's ASGI transport), quirks ON.

Each perpetual-diff class users of other Sentry tools report is a named test: the rule is
created from the manifest, the raw live object is checked to really show the hazard, and
the next plan is quiet. Also: one-field changes and out-of-band drift, prune, ambiguous
keys, targets and stale saved plans, all through real HTTP to the emulator.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from dexter_sync.core.changes import Action, NoteReason, Plan
from dexter_sync.core.planning import parse_targets
from dexter_sync.emulator.routes.discover import KIND as DISCOVER_KIND
from dexter_sync.kinds.registry import catalog
from dexter_sync.render.jsonplan import render_json
from dexter_sync.render.planfile import read_plan, stale_objects, write_plan
from tests.helpers_org import ORG, Org

TOKEN = "planner-test-token"


@pytest.fixture
def org(tmp_path):
    created = Org(tmp_path, TOKEN)
    yield created
    asyncio.run(created.close())


def run(coro):
    return asyncio.run(coro)


def metric(name: str, threshold: str = "100", extra: str = "") -> str:
    return f"""
      - name: {name}
        project: backend
        aggregate: count()
        time_window: 1h
        {extra}
        triggers:
          critical:
            threshold: {threshold}
            actions:
              - email: {{team: backend-team}}
    """


def assert_quiet(plan: Plan) -> None:
    assert not plan.has_changes, render_json(plan)
    assert plan.notes == [] and plan.safety == []


# ---- perpetual-diff classes, each a regression test (emulator quirks ON) --------------


ISSUE_RULE = """
issue_alerts:
  - name: Reordered
    project: backend
    action_match: any
    conditions:
      - first_seen_event
      - regression_event
      - reappeared_event
      - id: sentry.rules.conditions.event_frequency.EventFrequencyCondition
        value: "80"
        interval: 1h
    filters:
      - tagged_event: {key: environment, match: eq, value: "  production  "}
    filter_match: all
    actions:
      - email: {target: team, team: backend-team}
"""


@pytest.mark.parametrize("reorder", [True, False], ids=["server-order", "as-sent"])
def test_conditions_returned_in_either_order(org, reorder):
    # REFERENCE.md §14 item 5 does not say whether Sentry keeps the nodes' order: quiet
    # either way
    org.app.state.config.quirks.reorder_nodes = reorder
    quiet = run(org.converge(ISSUE_RULE))
    assert_quiet(quiet)
    live = run(org.live("issue_alert"))[0]
    sent = ["FirstSeenEventCondition", "RegressionEventCondition", "ReappearedEventCondition",
            "EventFrequencyCondition"]
    returned = [c["id"].rsplit(".", 1)[-1] for c in live["conditions"]]
    assert sorted(returned) == sorted(sent)
    assert (returned != sent) is reorder


def test_server_added_name_fields(org):
    quiet = run(org.converge(ISSUE_RULE))
    assert_quiet(quiet)
    live = run(org.live("issue_alert"))[0]
    assert all("name" in node for node in live["conditions"] + live["actions"])
    assert all("uuid" in node for node in live["actions"])
    assert quiet.cosmetic.get("server-field", 0) >= len(live["conditions"])


def test_string_80_versus_number_80(org):
    assert_quiet(run(org.converge(ISSUE_RULE)))
    live = run(org.live("issue_alert"))[0]
    frequency = next(c for c in live["conditions"] if c["id"].endswith("EventFrequencyCondition"))
    assert frequency["value"] == 80


def test_whitespace_in_filter_values(org):
    assert_quiet(run(org.converge(ISSUE_RULE)))
    live = run(org.live("issue_alert"))[0]
    assert live["filters"][0]["value"] == "production"


def test_filter_match_null_versus_all(org):
    body = """
    issue_alerts:
      - name: No filter match
        project: backend
        conditions: [first_seen_event]
        actions:
          - email: {target: team, team: backend-team}
    """
    assert_quiet(run(org.converge(body)))
    live = run(org.live("issue_alert"))[0]
    assert live["filterMatch"] == "all" and live["frequency"] == 30


def test_thresholds_as_floats(org):
    quiet = run(org.converge("metric_alerts:" + metric("Floats", threshold="100")))
    assert_quiet(quiet)
    live = run(org.live("metric_alert"))[0]
    assert live["triggers"][0]["alertThreshold"] == 100.0
    assert isinstance(live["triggers"][0]["alertThreshold"], float)
    assert isinstance(live["timeWindow"], float)
    assert quiet.cosmetic.get("type", 0) >= 1


@pytest.mark.parametrize("reverse", [False, True], ids=["sorted", "reversed"])
def test_projects_in_either_order(org, reverse):
    # REFERENCE.md §14 item 7 does not say whether Sentry sorts a query's projects (the
    # emulator does): quiet either way
    body = """
    discover_queries:
      - name: Both projects
        projects: [frontend, backend]
        query_dataset: error-events
        fields: [title, count()]
        range: 24h
    """
    assert_quiet(run(org.converge(body)))
    store = org.app.state.store
    if reverse:  # as a Sentry that keeps another order would answer
        [record] = store.query(DISCOVER_KIND)
        store.put(DISCOVER_KIND, {**record, "projects": sorted(record["projects"],
                                                               reverse=True)})
    live = run(org.live("discover_query"))[0]
    assert live["projects"] == sorted(live["projects"], reverse=reverse)
    assert_quiet(run(org.plan()))


# ---- one-field changes and drift ---------------------------------------------------


def test_one_field_change_and_out_of_band_drift(org):
    assert_quiet(run(org.converge("metric_alerts:" + metric("Edit me"))))
    org.write("metric_alerts:" + metric("Edit me", threshold="250"))
    plan = run(org.plan())
    assert [(c.action, c.key) for c in plan.changes] == [(Action.UPDATE, "Edit me")]
    assert [(d.path, d.before, d.after) for d in plan.changes[0].diff] == [
        (("triggers", "critical", "threshold"), 100, 250)]
    # drift: someone edits the rule in Sentry's UI; the plan proposes the reverse update
    org.write("metric_alerts:" + metric("Edit me"))
    live = run(org.live("metric_alert"))[0]
    run(org.oob("metric_rule", "update", id=live["id"], fields={"timeWindow": 30}))
    drift = run(org.plan())
    assert [(d.path, d.before, d.after) for d in drift.changes[0].diff] == [
        (("time_window",), 30, 60)]  # durations compare as minutes
    shown = json.loads(render_json(drift))["changes"][0]
    assert [(d["before"], d["after"]) for d in shown["diff"]] == [("30m", "1h")]
    assert (shown["before"]["time_window"], shown["after"]["time_window"]) == ("30m", "1h")


# ---- prune, ambiguity, targets, stale plans -----------------------------------------


def test_prune_and_ambiguous_keys_over_http(org):
    assert_quiet(run(org.converge("metric_alerts:" + metric("Keep") + metric("Stray"))))
    org.write("metric_alerts:" + metric("Keep"))
    kept = run(org.plan())
    assert kept.changes == [] and [(n.reason, n.key) for n in kept.notes] == [
        (NoteReason.UNMANAGED, "Stray")]
    org.write("metric_alerts:" + metric("Keep"), "prune: {metric_alerts: true}\n")
    pruned = run(org.plan())
    assert [(c.action, c.key) for c in pruned.changes] == [(Action.DELETE, "Stray")]
    run(org.apply(pruned))
    assert [r["name"] for r in run(org.live("metric_alert"))] == ["Keep"]
    # someone creates a second rule named "Keep" in the UI: neither is touched any more
    team = run(org.facade.read_directory()).team_id("backend-team")
    run(org.oob("metric_rule", "create", fields={
        "name": "Keep", "aggregate": "count()", "query": "", "timeWindow": 60,
        "projects": ["backend"],
        "thresholdType": 0, "triggers": [{"label": "critical", "alertThreshold": 1, "actions": [
            {"type": "email", "targetType": "team", "targetIdentifier": team}]}]}))
    org.write("metric_alerts:" + metric("Keep", threshold="9"), "prune: {metric_alerts: true}\n")
    twins = run(org.plan())
    assert twins.changes == []
    assert [(n.reason, n.key, len(n.live_ids)) for n in twins.notes] == [
        (NoteReason.AMBIGUOUS, "Keep", 2)]


def test_target_and_stale_saved_plan(org, tmp_path):
    assert_quiet(run(org.converge("metric_alerts:" + metric("A") + metric("B"))))
    org.write("metric_alerts:" + metric("A", threshold="5") + metric("B", threshold="6"))
    only_b = run(org.plan(targets=parse_targets(["metric_alert/B"], catalog())))
    assert [c.key for c in only_b.changes] == ["B"]
    saved = tmp_path / "plan.json"
    write_plan(run(org.plan()), saved)
    plan = read_plan(saved, organization=ORG)
    current = run(org.facade.read_state(plan.kinds_read, projects=plan.projects_read))
    assert stale_objects(plan, current, catalog()) == []
    live_b = next(r for r in run(org.live("metric_alert")) if r["name"] == "B")
    run(org.oob("metric_rule", "update", id=live_b["id"], fields={"thresholdPeriod": 3}))
    current = run(org.facade.read_state(plan.kinds_read, projects=plan.projects_read))
    assert stale_objects(plan, current, catalog()) == ["metric_alert/B: changed since the plan"]


def test_planning_twice_against_the_same_state_is_identical(org):
    org.write(ISSUE_RULE + "metric_alerts:" + metric("X") + metric("Y", threshold="7"))
    run(org.apply(run(org.plan())))
    org.write(ISSUE_RULE.replace("first_seen_event", "first_seen_event\n      - "
                                 "new_high_priority_issue")
              + "metric_alerts:" + metric("X", threshold="3") + metric("Z"))
    assert render_json(run(org.plan())) == render_json(run(org.plan()))


# ---- every kind: a one-field change, and the reverse of an out-of-band change ----------

KIND_CASES = {
    "issue_alert": (
        """
        issue_alerts:
          - name: Kinds
            project: backend
            frequency: {value}
            conditions: [first_seen_event]
            actions:
              - email: {{target: issue_owners, fallthrough: active_members}}
        """, (30, 60), ("frequency",), "issue_rule", {"frequency": 1440}, 1440),
    "discover_query": (
        """
        discover_queries:
          - name: Kinds
            projects: [backend]
            query_dataset: error-events
            fields: [title, count()]
            query: "{value}"
            range: 24h
        """, ("event.type:error", "level:fatal"), ("query",), "saved_query",
        {"query": "level:info"}, "level:info"),
    "release": (
        """
        releases:
          - version: kinds@1.0.0
            projects: [backend]
            url: "{value}"
        """, ("https://example.com/1", "https://example.com/2"), ("url",), "release",
        {"url": "https://example.com/ui"}, "https://example.com/ui"),
    "code_mapping": (
        """
        integration_links:
          - {{type: repository, name: acme/app, integration: acme-github, provider: github}}
          - type: code_mapping
            project: backend
            repository: acme/app
            stack_root: app/
            source_root: "{value}"
            default_branch: main
        """, ("src/", "lib/"), ("source_root",), "code_mapping", {"sourceRoot": "ui/"}, "ui/"),
}


@pytest.mark.parametrize("kind", sorted(KIND_CASES))
def test_each_kind_one_field_change_and_drift(org, kind):
    body, (old, new), path, oob_kind, oob_fields, drifted = KIND_CASES[kind]
    org.app.state.store.ensure_names(ORG, integrations=[("github", "acme-github")],
                                     repositories=[("acme/app", "acme-github")])
    assert_quiet(run(org.converge(body.format(value=old))))
    org.write(body.format(value=new))
    plan = run(org.plan())
    assert [(c.action, c.kind) for c in plan.changes] == [(Action.UPDATE, kind)], \
        render_json(plan)
    assert [(d.path, d.before, d.after) for d in plan.changes[0].diff] == [(path, old, new)]
    run(org.apply(plan))
    assert_quiet(run(org.plan()))
    live = next(o for o in run(org.live(kind)))
    run(org.oob(oob_kind, "update", id=live["id"], fields=oob_fields))
    drift = run(org.plan())
    assert [(c.action, c.kind) for c in drift.changes] == [(Action.UPDATE, kind)]
    assert [(d.path, d.before, d.after) for d in drift.changes[0].diff] == [
        (path, drifted, new)]


def test_a_changed_deploy_is_noted_never_updated(org):
    body = """
    releases:
      - version: web@2.0.0
        projects: [backend]
        deploys:
          - {{environment: production, name: prod, url: "{url}"}}
    """
    assert_quiet(run(org.converge(body.format(url="https://ci.example/1"))))
    org.write(body.format(url="https://ci.example/2"))
    plan = run(org.plan())
    assert plan.changes == []
    assert [(n.reason, n.kind) for n in plan.notes] == [(NoteReason.IMMUTABLE, "deploy")]
    assert json.loads(render_json(plan))["summary"]["immutable"] == 1
