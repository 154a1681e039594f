"""Metric alert rules on the emulator: Sentry's validation and 400 bodies (REFERENCE.md
§1.1–1.3), response normalizations (§1.5), update semantics (§1.4), the Slack 202 path."""

from __future__ import annotations

import copy

import pytest

EMAIL = {"type": "email", "targetType": "team", "targetIdentifier": "1000"}
SLACK = {"type": "slack", "targetType": "specific", "targetIdentifier": "alerts",
         "integrationId": 24000}
URL = "organizations/acme/alert-rules/"


def body(**changes) -> dict:
    rule = {"name": "High errors", "aggregate": "count()", "timeWindow": 60, "query": "",
            "thresholdType": 0, "projects": ["backend"],
            "triggers": [{"label": "critical", "alertThreshold": 100, "actions": [EMAIL]}]}
    rule.update(changes)
    return rule


def with_warning(critical: float, warning: float, **changes) -> dict:
    return body(triggers=[
        {"label": "critical", "alertThreshold": critical, "actions": [EMAIL]},
        {"label": "warning", "alertThreshold": warning, "actions": [EMAIL]}], **changes)


INVALID = [
    ("missing name", {k: v for k, v in body().items() if k != "name"},
     {"name": ["This field is required."]}),
    ("window 0", body(timeWindow=0),
     {"timeWindow": ["Ensure this value is greater than or equal to 1."]}),
    ("window 1441", body(timeWindow=1441),
     {"timeWindow": ["Ensure this value is less than or equal to 1440."]}),
    ("threshold period 21", body(thresholdPeriod=21),
     {"thresholdPeriod": ["Ensure this value is less than or equal to 20."]}),
    ("no actions", body(triggers=[{"label": "critical", "alertThreshold": 1, "actions": []}]),
     {"nonFieldErrors": [("Each trigger must have an associated action for this alert to "
                         "fire.")]}),
    ("first not critical", body(triggers=[{"label": "warning", "alertThreshold": 1,
                                           "actions": [EMAIL]}]),
     {"nonFieldErrors": ['First trigger must be labeled "critical"']}),
    ("three triggers", body(triggers=[{"label": "critical", "alertThreshold": 1,
                                       "actions": [EMAIL]}] * 3),
     {"nonFieldErrors": [("Must send 1 or 2 triggers - A critical trigger, and an optional "
                         "warning trigger")]}),
    ("critical below warning", with_warning(10, 20),
     {"nonFieldErrors": [("Critical trigger must have an alert threshold above warning "
                         "trigger")]}),
    ("below: critical above warning", with_warning(20, 10, thresholdType=1),
     {"nonFieldErrors": [("Critical trigger must have an alert threshold below warning "
                         "trigger")]}),
    ("resolve above alert", body(resolveThreshold=2, triggers=[
        {"label": "critical", "alertThreshold": 0, "actions": [EMAIL]}]),
     {"nonFieldErrors": ["critical alert threshold must be above resolution threshold"]}),
    ("fractional resolve equal", body(resolveThreshold=0.5, triggers=[
        {"label": "critical", "alertThreshold": 0.5, "actions": [EMAIL]}]),
     {"nonFieldErrors": ["critical alert threshold must be above resolution threshold"]}),
    ("percent without delta", body(detectionType="percent"),
     {"nonFieldErrors": ["Percentage-based alerts require a comparison delta"]}),
    ("slack without integration", body(triggers=[{"label": "critical", "alertThreshold": 1,
                                                  "actions": [{**SLACK, "integrationId": None}]}]),
     {"integration": ["Integration must be provided for slack"]}),
    ("both spellings", {**body(), "time_window": 60},
     {"timeWindow": ["timeWindow collides with time_window, please pass only one value"]}),
    ("unknown environment", body(environment="nowhere"), {"environment": ["Invalid environment"]}),
    ("two projects", body(projects=["backend", "frontend"]),
     {"projects": ["Ensure this field has no more than 1 elements."]}),
]


@pytest.mark.parametrize("case, payload, expected", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_rules_get_sentrys_400_bodies(emulator, case, payload, expected):
    response = emulator.client().post(URL, json=payload)
    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.parametrize("alert, resolve", [(100, 100), (0, 1), (1.5, 1.25)])
def test_resolve_threshold_rule_accepts_the_documented_edges(emulator, alert, resolve):
    response = emulator.client().post(URL, json=body(resolveThreshold=resolve, triggers=[
        {"label": "critical", "alertThreshold": alert, "actions": [EMAIL]}]))
    assert response.status_code == 201, response.text


def test_created_rule_is_normalized_as_sentry_answers(emulator):
    client = emulator.client()
    created = client.post(URL, json=with_warning(100, 50, timeWindow=30, environment="production"))
    assert created.status_code == 201
    rule = created.json()
    assert rule["timeWindow"] == 30.0 and isinstance(rule["timeWindow"], float)
    assert rule["resolution"] == 2.0
    assert isinstance(rule["id"], str) and rule["projects"] == ["backend"]
    assert [t["label"] for t in rule["triggers"]] == ["critical", "warning"]
    assert rule["triggers"][0]["alertThreshold"] == 100.0
    assert rule["triggers"][0]["thresholdType"] == 0
    assert isinstance(rule["createdBy"]["id"], int)
    assert rule["description"] == "" and rule["detectionType"] == "static"
    assert "eventTypes" not in rule  # only the detail serializer emits it
    detail = client.get(f"{URL}{rule['id']}/").json()
    assert detail["eventTypes"] == ["error"]
    listed = client.get(URL).json()
    assert [r["id"] for r in listed] == [rule["id"]] and "eventTypes" not in listed[0]


def test_static_rule_with_delta_becomes_percent_and_round_trips(emulator):
    client = emulator.client()
    rule = client.post(URL, json=body(comparisonDelta=60, triggers=[
        {"label": "critical", "alertThreshold": 10.1, "actions": [EMAIL]}])).json()
    assert rule["detectionType"] == "percent"
    assert rule["comparisonDelta"] == 60.0
    assert rule["resolution"] == 6.0  # doubled for comparison rules
    assert rule["triggers"][0]["alertThreshold"] == pytest.approx(10.1)


def test_put_without_ids_recreates_triggers_and_keeps_description(emulator):
    client = emulator.client()
    rule = client.post(URL, json=body(description="keep me")).json()
    old_trigger = rule["triggers"][0]["id"]
    updated = client.put(f"{URL}{rule['id']}/", json=body(description="", name="Renamed"))
    assert updated.status_code == 200
    assert updated.json()["triggers"][0]["id"] != old_trigger
    assert updated.json()["description"] == "keep me" and updated.json()["name"] == "Renamed"
    same_ids = copy.deepcopy(updated.json())
    again = client.put(f"{URL}{rule['id']}/", json=body(triggers=[{
        "id": same_ids["triggers"][0]["id"], "label": "critical", "alertThreshold": 5,
        "actions": [{**EMAIL, "id": same_ids["triggers"][0]["actions"][0]["id"]}]}])).json()
    assert again["triggers"][0]["id"] == same_ids["triggers"][0]["id"]
    assert again["triggers"][0]["actions"][0]["id"] == same_ids["triggers"][0]["actions"][0]["id"]


def test_delete_then_404(emulator):
    client = emulator.client()
    rule = client.post(URL, json=body()).json()
    assert client.delete(f"{URL}{rule['id']}/").status_code == 202
    assert client.get(f"{URL}{rule['id']}/").status_code == 404
    assert client.get(URL).json() == []


def test_slack_rule_answers_202_then_completes_through_the_task(emulator):
    # completion by poll count only (no clock): the first poll is pending, the second done
    emulator.set_quirks(slack_task_delay=3600, slack_task_polls=2)
    client = emulator.client()
    pending = client.post(URL, json=body(triggers=[
        {"label": "critical", "alertThreshold": 1, "actions": [SLACK]}]))
    assert pending.status_code == 202
    task_url = f"projects/acme/backend/alert-rule-task/{pending.json()['uuid']}/"
    assert client.get(URL).json() == []  # not created yet
    first = client.get(task_url).json()
    assert first["status"] == "pending" and first["alertRule"] is None
    done = client.get(task_url).json()
    assert done["status"] == "success"
    action = done["alertRule"]["triggers"][0]["actions"][0]
    assert action["targetIdentifier"] == "#alerts" and action["inputChannelId"] == "C00000001"
    assert [r["id"] for r in client.get(URL).json()] == [done["alertRule"]["id"]]


def test_a_due_slack_task_finishes_without_being_polled(emulator):
    # Sentry's worker runs the task in the background: once it is due, a listing shows its
    # rule although nobody polled the task
    emulator.set_quirks(slack_task_delay=3600, slack_task_polls=1000)
    client = emulator.client()
    pending = client.post(URL, json=body(triggers=[
        {"label": "critical", "alertThreshold": 1, "actions": [SLACK]}]))
    assert pending.status_code == 202
    assert client.get(URL).json() == []  # not due yet
    emulator.set_quirks(slack_task_delay=0)  # the task's time has come
    listed = client.get(URL).json()
    assert [r["name"] for r in listed] == ["High errors"]
    assert "GET /api/0/projects/{org}/{project}/alert-rule-task/{task_uuid}/" \
        not in emulator.counters()["routes"]  # never polled
    task = client.get(f"projects/acme/backend/alert-rule-task/{pending.json()['uuid']}/")
    assert task.json()["status"] == "success"
    assert task.json()["alertRule"]["id"] == listed[0]["id"]


def test_slack_task_fails_for_an_unknown_channel(emulator):
    client = emulator.client()
    emulator.set_quirks(slack_task_polls=1)
    pending = client.post(URL, json=body(triggers=[
        {"label": "critical", "alertThreshold": 1,
         "actions": [{**SLACK, "targetIdentifier": "#nowhere"}]}]))
    result = client.get(f"projects/acme/backend/alert-rule-task/{pending.json()['uuid']}/").json()
    assert result["status"] == "failed" and "nowhere" in result["error"]


def test_slack_quirk_off_answers_201_and_resolves_the_channel(emulator):
    emulator.set_quirks(slack_async=False)
    client = emulator.client()
    created = client.post(URL, json=body(triggers=[
        {"label": "critical", "alertThreshold": 1, "actions": [SLACK]}]))
    assert created.status_code == 201
    assert created.json()["triggers"][0]["actions"][0]["targetIdentifier"] == "#alerts"
    unknown = client.post(URL, json=body(triggers=[{"label": "critical", "alertThreshold": 1,
                                                    "actions": [{**SLACK,
                                                                 "targetIdentifier": "#x"}]}]))
    assert unknown.status_code == 400


def test_project_scoped_twin_forces_the_project(emulator):
    client = emulator.client()
    created = client.post("projects/acme/frontend/alert-rules/",
                          json=body(projects=["backend"])).json()
    assert created["projects"] == ["frontend"]
    assert [r["id"] for r in client.get("projects/acme/frontend/alert-rules/").json()] == \
        [created["id"]]
    assert client.get("projects/acme/backend/alert-rules/").json() == []


def test_stored_aggregate_is_shown_translated(emulator):
    rule = emulator.client().post(URL, json=body(aggregate="count_unique(tags[sentry:user])"))
    assert rule.json()["aggregate"] == "count_unique(user)"
    assert emulator.client().post(URL, json=body(aggregate="upsampled_count()")
                                  ).status_code == 400
