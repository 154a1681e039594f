"""Metric-alert incidents in the emulator (REFERENCE.md §12): the admin switch opens and
resolves them; the list filters by status, project and rule and expands activities; the
detail is addressed by the org-scoped identifier and adds `discoverQuery`."""

from __future__ import annotations

import pytest

from dexter_sync.emulator.testing import EmulatorHandle

RULE = {"name": "errors spike", "aggregate": "count()", "timeWindow": 5, "query": "level:error",
        "thresholdType": 0, "projects": ["backend"],
        "triggers": [{"label": "critical", "alertThreshold": 10, "actions": [
            {"type": "email", "targetType": "team", "targetIdentifier": "1000"}]}]}
ITEM_KEYS = {"id", "identifier", "organizationId", "projects", "alertRule", "activities",
             "status", "statusMethod", "type", "title", "dateStarted", "dateDetected",
             "dateCreated", "dateClosed", "activation"}


@pytest.fixture
def rule(emulator: EmulatorHandle) -> dict:
    response = emulator.client().post("organizations/acme/alert-rules/", json=RULE)
    assert response.status_code == 201, response.text
    return response.json()


def test_open_then_resolve_as_sentry_serializes_it(emulator: EmulatorHandle, rule: dict) -> None:
    client = emulator.client()
    assert client.get("organizations/acme/incidents/").json() == []
    opened = emulator.open_incident(rule["name"])
    assert opened["identifier"] == "1" and opened["status"] == 20
    listed = client.get("organizations/acme/incidents/").json()
    assert len(listed) == 1 and set(listed[0]) == ITEM_KEYS
    item = listed[0]
    assert item["activities"] is None  # only with expand=activities
    assert item["projects"] == ["backend"] and item["alertRule"]["id"] == rule["id"]
    assert (item["statusMethod"], item["type"], item["title"]) == (3, 2, "errors spike")
    assert item["dateClosed"] is None and isinstance(item["id"], str)

    # a rule that is still firing keeps its incident
    assert emulator.open_incident(rule["id"])["identifier"] == "1"
    assert client.get("organizations/acme/incidents/?status=open").json()[0]["id"] == item["id"]

    emulator.resolve_incident("1")
    closed = client.get("organizations/acme/incidents/1/?expand=activities").json()
    assert closed["status"] == 2 and closed["dateClosed"].endswith(":00.000000Z")
    assert closed["discoverQuery"] == "event.type:error level:error"
    assert [(a["type"], a["value"], a["previousValue"]) for a in closed["activities"]] == [
        (4, None, None), (2, "20", "1"), (2, "2", "20")]
    assert {a["incidentIdentifier"] for a in closed["activities"]} == {"1"}
    assert client.get("organizations/acme/incidents/?status=open").json() == []
    assert [i["identifier"] for i in
            client.get("organizations/acme/incidents/?status=closed").json()] == ["1"]
    activity = client.get("organizations/acme/incidents/1/activity/").json()
    assert [a["value"] for a in activity] == ["2", "20", None]  # newest first


def test_a_new_firing_gets_the_next_identifier_and_filters_apply(emulator: EmulatorHandle,
                                                                 rule: dict) -> None:
    client = emulator.client()
    emulator.open_incident(rule["name"])
    emulator.resolve_incident(1)
    second = emulator.open_incident(rule["name"], status=10)
    assert (second["identifier"], second["status"]) == ("2", 10)
    listed = client.get("organizations/acme/incidents/").json()
    assert [i["identifier"] for i in listed] == ["2", "1"]  # newest first
    ids = {p["slug"]: p["id"] for p in client.get("organizations/acme/projects/").json()}
    backend, frontend = ids["backend"], ids["frontend"]
    assert len(client.get(f"organizations/acme/incidents/?project={backend}").json()) == 2
    assert client.get(f"organizations/acme/incidents/?project={frontend}").json() == []
    assert len(client.get(f"organizations/acme/incidents/?alertRule={rule['id']}").json()) == 2
    assert client.get("organizations/acme/incidents/9/").status_code == 404
    assert client.get("organizations/acme/incidents/?per_page=1").headers["Link"].count(
        'results="true"') == 1


def test_the_switch_refuses_unknown_rules_and_actions(emulator: EmulatorHandle) -> None:
    assert emulator.admin.post("incidents/", json={"action": "open", "rule": "nope"}
                               ).status_code == 400
    assert emulator.admin.post("incidents/", json={"action": "explode"}).status_code == 400
    assert emulator.admin.post("incidents/", json={"action": "resolve", "identifier": "7"}
                               ).status_code == 404
