"""Saved plans: a round trip keeps everything apply needs; corrupt files, other format
versions and other organizations are refused with clear codes; stale plans name what
changed."""

from __future__ import annotations

import json

import pytest

from dexter_sync.core.changes import Action, FieldChange, Plan, ResourceChange
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory
from dexter_sync.core.fingerprints import fingerprints_of
from dexter_sync.core.sources import SourceSpan
from dexter_sync.core.state import LiveObject, LiveState
from dexter_sync.kinds.registry import catalog
from dexter_sync.render.jsonplan import render_json
from dexter_sync.render.planfile import read_plan, stale_objects, write_plan


def live_rule(name: str, rule_id: str, threshold: float = 100.0) -> dict:
    return {"id": rule_id, "name": name, "dataset": "events", "query": "",
            "aggregate": "count()", "thresholdType": 0, "timeWindow": 5.0,
            "thresholdPeriod": 1, "projects": ["backend"], "triggers": [
                {"id": "1", "label": "critical", "alertThreshold": threshold, "actions": [
                    {"id": "2", "type": "email", "targetType": "team",
                     "targetIdentifier": "7"}]}]}


def live_state(*rules: dict) -> LiveState:
    directory = Directory("acme", projects={"backend": "11"}, teams={"backend-team": "7"})
    return LiveState(directory, {"metric_alert": [
        LiveObject("metric_alert", r["name"], r["id"], r) for r in rules]})


def saved_plan(live: LiveState) -> Plan:
    return Plan(
        organization="acme",
        changes=[
            ResourceChange(Action.UPDATE, "metric_alert", "A", before={"t": 100},
                           after={"t": 90}, diff=(FieldChange(("triggers", "critical", 0), 1, 2,
                                                              span=SourceSpan("r.yaml", 4, 7)),),
                           live_id="1", span=SourceSpan("r.yaml", 2),
                           payload={"name": "A", "triggers": []}, live=live_rule("A", "1")),
            ResourceChange(Action.CREATE, "metric_alert", "C", after={"name": "C"},
                           payload={"name": "C"}, span=SourceSpan("r.yaml", 9)),
        ],
        unchanged=1,
        fingerprints=fingerprints_of(live, catalog()),
        manifest_path="sentry",
        kinds_read=["metric_alert"],
        projects_read=["backend"],
    )


def test_round_trip_keeps_what_apply_needs(tmp_path):
    live = live_state(live_rule("A", "1"), live_rule("B", "2"))
    plan = saved_plan(live)
    path = tmp_path / "plan.json"
    write_plan(plan, path)
    again = read_plan(path, organization="acme")
    assert render_json(again) == render_json(plan)
    assert again.changes[0].payload == {"name": "A", "triggers": []}
    assert again.changes[0].live_id == "1" and again.changes[0].live["id"] == "1"
    assert again.changes[0].diff[0].path == ("triggers", "critical", 0)
    assert again.changes[0].diff[0].span == SourceSpan("r.yaml", 4, 7)
    assert again.changes[1].span == SourceSpan("r.yaml", 9)
    assert again.fingerprints == plan.fingerprints and len(again.fingerprints) == 2
    assert (again.manifest_path, again.kinds_read, again.projects_read) == (
        "sentry", ["metric_alert"], ["backend"])
    assert stale_objects(again, live, catalog()) == []


def test_stale_plan_names_what_changed(tmp_path):
    plan = saved_plan(live_state(live_rule("A", "1"), live_rule("B", "2")))
    now = live_state(live_rule("A", "1", threshold=5), live_rule("C", "3"))
    assert stale_objects(plan, now, catalog()) == [
        "metric_alert/A: changed since the plan",
        "metric_alert/B: deleted since the plan",
        "metric_alert/C: created since the plan",
    ]


def write_doc(tmp_path, mutate) -> str:
    path = tmp_path / "plan.json"
    write_plan(saved_plan(live_state(live_rule("A", "1"))), path)
    document = json.loads(path.read_text())
    mutate(document)
    path.write_text(json.dumps(document))
    return str(path)


def refused(path: str, code: str, organization: str | None = "acme") -> str:
    with pytest.raises(DexterError) as error:
        read_plan(path, organization=organization)
    assert error.value.code == code
    return str(error.value)


def test_corrupt_plans_are_refused(tmp_path):
    edited = write_doc(tmp_path, lambda d: d["changes"][0].update(payload={"name": "evil"}))
    assert "checksum does not match" in refused(edited, "corrupt-plan")
    truncated = tmp_path / "truncated.json"
    truncated.write_text((tmp_path / "plan.json").read_text()[:200])
    assert "invalid JSON" in refused(str(truncated), "corrupt-plan")
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    refused(str(not_object), "corrupt-plan")
    refused(str(tmp_path / "missing.json"), "corrupt-plan")


def test_other_format_version_is_refused(tmp_path):
    path = write_doc(tmp_path, lambda d: d.update(format_version=2))
    message = refused(path, "plan-version")
    assert "format_version 2" in message and "format_version 1" in message


def test_other_organization_is_refused(tmp_path):
    path = tmp_path / "plan.json"
    write_plan(saved_plan(live_state(live_rule("A", "1"))), path)
    message = refused(str(path), "plan-organization", organization="globex")
    assert "'acme'" in message and "'globex'" in message
    assert read_plan(path).organization == "acme"
