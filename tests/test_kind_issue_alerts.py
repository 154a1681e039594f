"""The issue_alert kind: node catalogue payloads, the quiet-plan normalizations (one named
test per perpetual-diff class), one-field diffs, validation, export round trip, requests."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.diffing import diff_fields, restrict
from dexter_sync.core.directory import Directory, Integration
from dexter_sync.kinds.base import ReadContext
from dexter_sync.kinds.issue_alerts import IssueAlertEntry, IssueAlertKind, payload_for_update
from dexter_sync.kinds.issue_alerts.nodes import CATALOGUE
from tests.helpers_alerts import seeded_alert_app

KIND = IssueAlertKind()
C = "sentry.rules.conditions."
F = "sentry.rules.filters."
SLACK = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
EMAIL = "sentry.mail.actions.NotifyEmailAction"


@pytest.fixture
def directory() -> Directory:
    return Directory(
        organization="acme",
        projects={"backend": "4505100000000001"},
        teams={"platform": "1001"},
        members={"alice@example.com": "2001"},
        integrations={
            "24001": Integration("24001", "Acme Slack", "slack"),
            "24002": Integration("24002", "Acme PD", "pagerduty"),
            "24003": Integration("24003", "Acme Opsgenie", "opsgenie"),
            "24004": Integration("24004", "Acme Teams", "msteams"),
            "24005": Integration("24005", "Acme Discord", "discord"),
            "24006": Integration("24006", "Acme Jira", "jira"),
            "24007": Integration("24007", "Acme Jira Server", "jira_server"),
            "24008": Integration("24008", "acme-github", "github"),
            "24009": Integration("24009", "Acme DevOps", "vsts"),
            "24010": Integration("24010", "acme-ghe", "github_enterprise"),
        },
        environments={"production"},
        slack_channels={("24001", "#alerts"): "C0ALERTS01"},
    )


FRIENDLY = {
    "name": "New or frequent errors",
    "project": "backend",
    "action_match": "any",
    "frequency": "1h",
    "environment": "production",
    "owner": "team:platform",
    "conditions": [
        "first_seen_event",
        {"event_frequency": {"value": 100, "interval": "1h"}},
    ],
    "filters": [
        {"level": {"match": "gte", "level": "error"}},
        {"tagged_event": {"key": "customer", "match": "eq", "value": "vip"}},
    ],
    "actions": [
        {"slack": {"channel": "#alerts", "tags": ["environment", "level"]}},
        {"email": {"target": "issue_owners", "fallthrough": "all_members"}},
    ],
}

SENTRY_FORM = {
    "name": "New or frequent errors",
    "project": "backend",
    "action_match": "any",
    "frequency": 60,
    "environment": "production",
    "owner": "team:1001",
    "conditions": [
        {"id": C + "first_seen_event.FirstSeenEventCondition"},
        {"id": C + "event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h"},
    ],
    "filters": [
        {"id": F + "level.LevelFilter", "match": "gte", "level": "40"},
        {"id": F + "tagged_event.TaggedEventFilter", "key": "customer", "match": "eq",
         "value": "vip"},
    ],
    "actions": [
        {"id": SLACK, "workspace": "24001", "channel": "#alerts", "channel_id": "C0ALERTS01",
         "tags": "environment,level"},
        {"id": EMAIL, "targetType": "IssueOwners", "fallthroughType": "AllMembers"},
    ],
}

# REFERENCE §2.1/§2.2 request shape, written by hand.
EXPECTED_PAYLOAD = {
    "name": "New or frequent errors",
    "actionMatch": "any",
    "filterMatch": "all",
    "frequency": 60,
    "environment": "production",
    "owner": "team:1001",
    "conditions": SENTRY_FORM["conditions"],
    "filters": SENTRY_FORM["filters"],
    "actions": SENTRY_FORM["actions"],
}


def live_of(payload: dict[str, Any]) -> dict[str, Any]:
    """What Sentry returns (REFERENCE §2.3), by hand: node labels, action uuids, server fields,
    form-cleaned values, EventAttributeCondition moved to filters."""
    live = copy.deepcopy(payload)
    live.update({"id": "12", "projects": ["backend"], "status": "active", "snooze": False,
                 "dateCreated": "2026-11-26T09:00:00.000000Z",
                 "createdBy": {"id": 2001, "name": "Alice", "email": "alice@example.com"},
                 "environment": payload.get("environment"), "owner": payload.get("owner"),
                 "filterMatch": payload.get("filterMatch") or "all"})
    moved = [n for n in live["conditions"] if n["id"].endswith("EventAttributeCondition")]
    live["conditions"] = [n for n in live["conditions"] if n not in moved]
    live["filters"] = live["filters"] + moved
    for list_name in ("conditions", "filters", "actions"):
        for n, node in enumerate(live[list_name]):
            node["name"] = f"label {n}"
    for n, action in enumerate(live["actions"]):
        action["uuid"] = f"00000000-0000-4000-8000-00000000000{n}"
    return live


def entry(data: dict[str, Any]) -> IssueAlertEntry:
    return IssueAlertEntry.model_validate(data)


def canon(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    return KIND.canonical(entry(data), directory=directory)


def live_canon(live: dict[str, Any], directory: Directory) -> dict[str, Any]:
    return KIND.canonical(KIND.entry_from_live(live, directory=directory), directory=directory)


# ---- payloads ---------------------------------------------------------------------------------

def test_friendly_payload_equals_reference_shape(directory):
    assert KIND.build_payload(entry(FRIENDLY), directory=directory) == EXPECTED_PAYLOAD


def test_sentry_form_gives_the_same_payload_and_canonical(directory):
    assert KIND.build_payload(entry(SENTRY_FORM), directory=directory) == EXPECTED_PAYLOAD
    assert canon(SENTRY_FORM, directory) == canon(FRIENDLY, directory)


EVERY_NODE = {
    "name": "Everything",
    "project": "backend",
    "conditions": [
        "first_seen_event", "regression_event", "reappeared_event", "new_high_priority_issue",
        "existing_high_priority_issue",
        {"event_frequency": {"value": 10, "interval": "5m", "comparison_type": "percent",
                             "comparison_interval": "1w"}},
        {"event_unique_user_frequency": {"value": 5, "interval": "1d"}},
        {"event_frequency_percent": {"value": 2.5, "interval": "10m"}},
    ],
    "filters": [
        {"age_comparison": {"comparison_type": "older", "value": 3, "time": "week"}},
        {"issue_occurrences": {"value": 120}},
        {"assigned_to": {"target": "unassigned"}},
        {"assigned_to": {"team": "platform"}},
        {"assigned_to": {"user": "alice@example.com"}},
        "latest_release",
        {"issue_category": {"value": "performance"}},
        {"event_attribute": {"attribute": "http.url", "match": "nc", "value": "localhost"}},
        {"event_attribute": {"attribute": "user.email", "match": "is"}},
        {"tagged_event": {"key": "level", "match": "eq", "value": "error"}},
        {"level": {"match": "lte", "level": "warning"}},
    ],
    "actions": [
        {"email": {"target": "issue_owners"}},
        {"email": {"team": "platform", "fallthrough": "no_one"}},
        {"email": {"user": "alice@example.com"}},
        {"slack": {"channel": "alerts", "workspace": "Acme Slack", "notes": "see runbook"}},
        {"msteams": {"channel": "General"}},
        {"discord": {"channel_id": 94732897, "tags": "browser,user"}},
        {"jira": {"project": 10000, "issuetype": 1, "fields": {"priority": "2"}}},
        {"jira_server": {"project": "10001", "issuetype": "3"}},
        {"github": {"repo": "acme/backend", "title": "Sentry issue", "labels": ["bug"]}},
        {"github_enterprise": {"repo": "acme/infra"}},
        {"azure_devops": {"project": "0389485", "work_item_type": "Task"}},
        {"pagerduty": {"service": 9823924, "severity": "critical"}},
        {"opsgenie": {"team": "ops-1", "priority": "P1"}},
        {"notify_event_service": {"service": "webhooks"}},
        {"sentry_app": {"installation_uuid": "a1b2", "settings": [{"name": "t", "value": 1}],
                        "has_schema_form_config": True}},
        "notify_event",
    ],
}


def test_every_catalogue_node_is_exercised():
    used = {n if isinstance(n, str) else next(iter(n))
            for key in ("conditions", "filters", "actions") for n in EVERY_NODE[key]}
    assert used == {spec.short for spec in CATALOGUE}


def test_payload_of_every_node(directory):
    body = KIND.build_payload(entry(EVERY_NODE), directory=directory)
    assert body["conditions"][5] == {"id": C + "event_frequency.EventFrequencyCondition",
                                     "value": 10, "interval": "5m", "comparisonType": "percent",
                                     "comparisonInterval": "1w"}
    filters = {n["id"].rsplit(".", 1)[1]: n for n in body["filters"]}
    assert filters["IssueCategoryFilter"]["value"] == 2
    assert filters["LevelFilter"] == {"id": F + "level.LevelFilter", "match": "lte", "level": "30"}
    assigned = [n for n in body["filters"] if n["id"].endswith("AssignedToFilter")]
    assert [(n["targetType"], n.get("targetIdentifier")) for n in assigned] == [
        ("Unassigned", None), ("Team", 1001), ("Member", 2001)]
    actions = body["actions"]
    assert actions[1] == {"id": EMAIL, "targetType": "Team", "targetIdentifier": 1001,
                          "fallthroughType": "NoOne"}
    assert actions[3] == {"id": SLACK, "workspace": "24001", "channel": "#alerts",
                          "channel_id": "C0ALERTS01", "notes": "see runbook"}
    assert actions[5]["server"] == "24005" and actions[5]["channel_id"] == "94732897"
    assert actions[5]["tags"] == "browser,user"
    assert actions[6] == {"id": "sentry.integrations.jira.notify_action.JiraCreateTicketAction",
                          "integration": "24006", "project": "10000", "issuetype": "1",
                          "priority": "2"}
    assert actions[11] == {
        "id": "sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction",
        "account": "24002", "service": "9823924", "severity": "critical"}
    assert actions[14] == {
        "id": "sentry.rules.actions.notify_event_sentry_app.NotifyEventSentryAppAction",
        "sentryAppInstallationUuid": "a1b2", "settings": [{"name": "t", "value": 1}],
        "hasSchemaFormConfig": True}
    assert all("name" not in node for key in ("conditions", "filters", "actions")
               for node in body[key])


def test_every_node_round_trips(directory):
    live = live_of(KIND.build_payload(entry(EVERY_NODE), directory=directory))
    assert live_canon(live, directory) == canon(EVERY_NODE, directory)
    exported = KIND.export(live, directory=directory)
    assert KIND.canonical(entry(exported), directory=directory) == canon(EVERY_NODE, directory)


# ---- perpetual-diff classes ---------------------------------------------------------------------

def test_unchanged_rule_compares_equal(directory):
    assert live_canon(live_of(EXPECTED_PAYLOAD), directory) == canon(FRIENDLY, directory)


def test_conditions_returned_in_another_order(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["conditions"].reverse()
    live["filters"].reverse()
    live["actions"].reverse()
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_server_added_name_and_uuid(directory):
    live = live_of(EXPECTED_PAYLOAD)
    assert all("name" in n for n in live["conditions"]) and live["actions"][0]["uuid"]
    canonical = live_canon(live, directory)
    assert "name" not in str(canonical["conditions"]) and "uuid" not in str(canonical)
    assert canonical == canon(FRIENDLY, directory)


def test_string_80_vs_int_80(directory):
    data = copy.deepcopy(SENTRY_FORM)
    data["conditions"][1]["value"] = "100"  # Sentry coerces form values
    assert canon(data, directory) == canon(FRIENDLY, directory)
    live = live_of(EXPECTED_PAYLOAD)
    live["conditions"][1]["value"] = "100"
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_whitespace_in_filter_values(directory):
    data = copy.deepcopy(FRIENDLY)
    data["filters"][1] = {"tagged_event": {"key": " customer", "match": "eq", "value": " vip  "}}
    assert canon(data, directory) == canon(FRIENDLY, directory)
    live = live_of(EXPECTED_PAYLOAD)
    live["filters"][1]["value"] = "vip "
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_filter_match_null_vs_all(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["filterMatch"] = None
    assert live_canon(live, directory) == canon(FRIENDLY, directory)
    declared = {**FRIENDLY, "filter_match": "all"}
    assert canon(declared, directory) == canon(FRIENDLY, directory)


def test_server_defaults_frequency_and_action_match(directory):
    data = {k: v for k, v in FRIENDLY.items() if k not in ("frequency", "action_match")}
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    live.update(frequency=30, actionMatch="all")
    assert live_canon(live, directory) == canon(data, directory)
    live.update(frequency=None, actionMatch=None)
    assert live_canon(live, directory) == canon(data, directory)


def test_event_attribute_moved_from_conditions_to_filters(directory):
    data = copy.deepcopy(FRIENDLY)
    data["conditions"].append({"event_attribute": {"attribute": "message", "match": "co",
                                                   "value": "timeout"}})
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    assert live["filters"][-1]["id"].endswith("EventAttributeCondition")
    assert live_canon(live, directory) == canon(data, directory)


def test_choice_field_ids_as_strings_and_form_added_empty_keys(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["actions"][0]["workspace"] = 24001  # sent as int, stored as string: either way
    live["actions"][1]["targetIdentifier"] = ""  # form cleaning adds empty keys
    live["filters"].append({"id": F + "assigned_to.AssignedToFilter", "targetType": "Team",
                            "targetIdentifier": "1001", "name": "assigned"})
    data = copy.deepcopy(FRIENDLY)
    data["filters"].append({"assigned_to": {"team": "platform"}})
    assert live_canon(live, directory) == canon(data, directory)


def test_slack_hash_prefix_and_channel_id(directory):
    data = copy.deepcopy(FRIENDLY)
    data["actions"][0] = {"slack": {"channel": "alerts", "workspace": "Acme Slack",
                                    "tags": "environment, level"}}
    assert canon(data, directory) == canon(FRIENDLY, directory)
    live = live_of(EXPECTED_PAYLOAD)
    live["actions"][0].update(channel="alerts", channel_id="C0ALERTS01")
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_owner_ids_vs_slugs(directory):
    live = live_of(EXPECTED_PAYLOAD)
    assert live["owner"] == "team:1001"
    assert live_canon(live, directory)["owner"] == "team:platform"


def test_default_email_fallthrough_and_opsgenie_priority(directory):
    data = {**FRIENDLY, "actions": [{"email": {"target": "issue_owners"}},
                                     {"opsgenie": {"team": "ops-1"}}]}
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    live["actions"][0]["fallthroughType"] = "ActiveMembers"
    live["actions"][1]["priority"] = "P3"
    assert live_canon(live, directory) == canon(data, directory)


# ---- real differences -------------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("frequency", "2h"), ("action_match", "all"), ("filter_match", "any"),
    ("environment", "staging"), ("name", "Renamed"),
    ("conditions", ["first_seen_event", {"event_frequency": {"value": 200, "interval": "1h"}}]),
    ("actions", [{"email": {"target": "issue_owners", "fallthrough": "all_members"}}]),
])
def test_one_field_change_gives_exactly_that_difference(directory, field, value):
    data = {**FRIENDLY, field: value}
    desired = canon(data, directory)
    changes = diff_fields(restrict(live_canon(live_of(EXPECTED_PAYLOAD), directory), desired),
                          desired)
    assert changes and {c.path[0] for c in changes} == {field}


# ---- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"frequency": 4}, "frequency must be between 5m and 30d"),
    ({"frequency": "31d"}, "frequency must be between"),
    ({"name": " "}, "name must not be empty"),
    ({"actions": []}, "You must add an action for this alert to fire"),
    ({"action_match": "some"}, "Input should be"),
    ({"filter_match": "most"}, "Input should be"),
    ({"owner": "me"}, "owner must be"),
    ({"conditions": [{"event_frequency": {"value": 1, "interval": "2h"}}]}, "Input should be"),
    ({"conditions": [{"event_frequency": {"value": 1.5, "interval": "1h"}}]}, "valid integer"),
    ({"conditions": [{"event_frequency": {"value": 1, "interval": "1h",
                                          "comparison_type": "percent"}}]},
     "needs comparison_interval"),
    ({"conditions": ["event_frequency"]}, "Input should be"),
    ({"conditions": ["first_seen"]}, "Input should be"),
    ({"conditions": [{"frist_seen_event": {}}]}, "Extra inputs are not permitted"),
    ({"conditions": [{"first_seen_event": None, "regression_event": None}]}, "exactly one"),
    ({"filters": [{"level": {"match": "gt", "level": "error"}}]}, "Input should be"),
    ({"filters": [{"level": {"match": "eq", "level": "loud"}}]}, "Input should be"),
    ({"filters": [{"tagged_event": {"key": "k", "match": "eq"}}]}, "needs a value"),
    ({"filters": [{"tagged_event": {"key": "k", "match": "starts", "value": "v"}}]},
     "Input should be"),
    ({"filters": [{"age_comparison": {"comparison_type": "older", "value": 1,
                                      "time": "month"}}]}, "Input should be"),
    ({"filters": [{"assigned_to": {"target": "team"}}]}, "needs team"),
    ({"filters": ["first_seen_event"]}, "Input should be"),
    ({"actions": [{"email": {}}]}, "email needs target"),
    ({"actions": [{"opsgenie": {"team": "x", "priority": "P9"}}]}, "Input should be"),
    ({"conditions": [{"id": C + "event_frequency.EventFrequencyCondition", "value": 1,
                      "interval": "2h"}]}, "event_frequency"),
    ({"actions": [{"id": C + "first_seen_event.FirstSeenEventCondition"}]},
     "is a condition; declare it under conditions"),
    ({"raw": {"frequency": 5}}, "raw may not set modelled fields"),
    ({"frequncy": 5}, "Extra inputs are not permitted"),
])
def test_validation_errors(change, message):
    with pytest.raises(ValidationError, match=message):
        entry({**FRIENDLY, **change})


def test_unknown_sentry_node_ids_pass_through(directory):
    node = {"id": "sentry.rules.conditions.future.FutureCondition", "knob": " 3 "}
    data = {**FRIENDLY, "conditions": [node]}
    assert KIND.build_payload(entry(data), directory=directory)["conditions"] == [node]
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    assert live_canon(live, directory) == canon(data, directory)
    assert canon(data, directory)["conditions"] == [{"id": node["id"], "knob": "3"}]


# ---- export, updates, requests, references ---------------------------------------------

def test_export_round_trip(directory):
    live = live_of(EXPECTED_PAYLOAD)
    exported = KIND.export(live, directory=directory)
    assert exported["frequency"] == "1h" and exported["owner"] == "team:platform"
    assert "filter_match" not in exported
    assert exported["conditions"][0] == "first_seen_event"
    assert exported["actions"][0] == {"slack": {"channel": "#alerts", "workspace": "Acme Slack",
                                                "tags": ["environment", "level"]}}
    assert KIND.canonical(entry(exported), directory=directory) == live_canon(live, directory)


def test_update_echoes_action_uuids(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["actions"].reverse()
    data = {**FRIENDLY, "frequency": "2h"}
    body = payload_for_update(entry(data), live, directory=directory)
    assert [a["uuid"] for a in body["actions"]] == [
        "00000000-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000001"]
    changed = copy.deepcopy(FRIENDLY)
    changed["actions"][0]["slack"]["channel"] = "#ops"  # same class: keeps its uuid
    body = payload_for_update(entry(changed), live, directory=directory)
    assert body["actions"][0]["uuid"] == "00000000-0000-4000-8000-000000000000"
    change = ResourceChange(Action.UPDATE, "issue_alert", "backend/x", live_id="12",
                            project="backend", live=live,
                            payload=KIND.build_payload(entry(data), directory=directory))
    request = KIND.update_request("acme", change)
    assert (request.method, request.path) == ("PUT", "projects/acme/backend/rules/12/")
    assert all(a.get("uuid") for a in request.json["actions"])


def test_requests(directory):
    listing = KIND.list_requests(ReadContext("acme", directory, ["frontend", "backend"]))
    assert [(r.request.path, r.project) for r in listing] == [
        ("projects/acme/backend/rules/", "backend"), ("projects/acme/frontend/rules/", "frontend")]
    create = KIND.create_request("acme", ResourceChange(
        Action.CREATE, "issue_alert", "backend/x", project="backend", payload={"name": "x"}))
    assert (create.method, create.path, create.json) == (
        "POST", "projects/acme/backend/rules/", {"name": "x"})
    delete = KIND.delete_request("acme", ResourceChange(
        Action.DELETE, "issue_alert", "backend/x", live_id="9"))
    assert (delete.method, delete.path) == ("DELETE", "projects/acme/backend/rules/9/")
    assert KIND.key(entry(FRIENDLY)) == "backend/New or frequent errors"
    assert KIND.live_key({"name": "n"}, directory=directory, project="backend",
                         parent=None) == "backend/n"


def test_references(directory):
    refs = {(r.kind, r.name, r.provider, r.path) for r in KIND.references(entry(EVERY_NODE))}
    assert ("project", "backend", None, ("project",)) in refs
    assert ("team", "platform", None, ("filters", 3, "assigned_to", "team")) in refs
    assert ("member", "alice@example.com", None, ("actions", 2, "email", "user")) in refs
    assert ("integration", "Acme Slack", "slack", ("actions", 3, "slack", "workspace")) in refs
    assert ("slack_channel", "#alerts", None, ("actions", 3, "slack", "channel")) in refs
    assert ("integration", "", "vsts", ("actions", 10, "azure_devops", "integration")) in refs


# ---- against the emulator (HTTP over httpx's ASGI transport) -----------------------------------

def _emulator_rules() -> list[dict[str, Any]]:
    """Rules covering every condition, filter and action the emulator knows (not the
    GitHub Enterprise action, which it does not register), each distinct for Sentry's
    exact-duplicate check."""
    nodes = copy.deepcopy(EVERY_NODE)
    nodes["actions"] = [a for a in nodes["actions"]
                        if not (isinstance(a, dict) and "github_enterprise" in a)]
    by_condition = [{**nodes, "name": "every node"}]
    for n, condition in enumerate(nodes["conditions"]):
        by_condition.append({
            "name": f"condition {n}", "project": "frontend", "frequency": 5 + n,
            "action_match": ["all", "any", "none"][n % 3], "filter_match": "any",
            "conditions": [condition], "filters": nodes["filters"][n:n + 2],
            "actions": nodes["actions"][n:n + 3]})
    by_condition.append({**FRIENDLY, "name": "friendly"})
    by_condition.append({**FRIENDLY, "name": "moved attribute", "frequency": "1d",
                         "conditions": [{"event_attribute": {"attribute": "message",
                                                             "match": "co", "value": " boom "}}],
                         "filters": []})
    return by_condition


def test_emulator_round_trip_of_every_condition_filter_and_action():
    import asyncio

    from dexter_sync.emulator.testing import asgi_client

    app = seeded_alert_app()
    store = app.state.store
    org = next(o for o in store.query("org") if o["slug"] == "acme")
    rules = _emulator_rules()

    async def run() -> tuple[Directory, dict[str, list[dict[str, Any]]], list[Any]]:
        async with asgi_client(app, token="t") as client:
            get = client.get
            projects = (await get("/api/0/organizations/acme/projects/")).json()
            directory = Directory(
                organization="acme",
                projects={p["slug"]: p["id"] for p in projects},
                teams={t["slug"]: t["id"]
                       for t in (await get("/api/0/organizations/acme/teams/")).json()},
                members={m["email"]: m["user"]["id"]
                         for m in (await get("/api/0/organizations/acme/members/")).json()},
                integrations={i["id"]: Integration(i["id"], i["name"], i["provider"]["key"])
                              for i in (await get("/api/0/organizations/acme/integrations/")
                                        ).json()},
                environments={"production"},
                slack_channels={(str(c["integrationId"]), "#" + c["name"]): c["channelId"]
                                for c in store.query("slack_channel", org["id"])},
            )
            statuses = []
            for rule in rules:
                body = KIND.build_payload(entry(rule), directory=directory)
                response = await client.post(f"/api/0/projects/acme/{rule['project']}/rules/",
                                             json=body)
                statuses.append((rule["name"], response.status_code, response.text[:300]))
            live = {slug: (await get(f"/api/0/projects/acme/{slug}/rules/")).json()
                    for slug in ("backend", "frontend")}
            return directory, live, statuses

    directory, live, statuses = asyncio.run(run())
    assert [s for s in statuses if s[1] not in (200, 201)] == []
    by_key = {KIND.live_key(r, directory=directory, project=slug, parent=None): r
              for slug, items in live.items() for r in items}
    assert set(by_key) == {KIND.key(entry(rule)) for rule in rules}
    assert any("name" in n for r in by_key.values() for n in r["conditions"])  # labels added
    for rule in rules:
        got = by_key[KIND.key(entry(rule))]
        desired = canon(rule, directory)
        assert restrict(live_canon(got, directory), desired) == desired, rule["name"]
        exported = KIND.export(got, directory=directory)
        assert KIND.canonical(entry(exported), directory=directory) == \
            live_canon(got, directory)


# ---- live objects no manifest could declare stay readable ------------------------------------

def test_live_rule_whose_actions_were_dropped_is_readable(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["actions"] = []  # Sentry drops actions naming a deleted integration
    canonical = live_canon(live, directory)
    assert canonical["actions"] == []
    desired = canon(FRIENDLY, directory)
    assert {c.path[0] for c in diff_fields(restrict(canonical, desired), desired)} == {"actions"}


def test_live_value_without_a_friendly_form_falls_back_to_sentry_form(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["conditions"][1]["interval"] = "3h"  # not an interval this version knows
    found = KIND.entry_from_live(live, directory=directory)
    assert found.conditions[1].id.endswith("EventFrequencyCondition")
    canonical = KIND.canonical(found, directory=directory)
    assert {"event_frequency": {"value": 100, "interval": "3h", "comparison_type": "count"}} \
        in canonical["conditions"]
    assert "name" not in KIND.export(live, directory=directory)["conditions"][1]


def test_sentry_ids_are_not_names_to_check(directory):
    data = {**FRIENDLY, "owner": "user:2001",
            "filters": [{"assigned_to": {"team": 1001}}, {"assigned_to": {"user": "2001"}}]}
    refs = {(r.kind, r.name) for r in KIND.references(entry(data))}
    assert not {("member", "2001"), ("team", "1001")} & refs
    assert ("project", "backend") in refs


def test_emulator_update_keeps_action_uuids():
    import asyncio

    from dexter_sync.emulator import EmulatorConfig, create_app
    from dexter_sync.emulator.testing import asgi_client

    app = create_app(EmulatorConfig(token="t"))
    app.state.store.ensure_names("acme", projects=["backend"], teams=["platform"],
                                 environments=["production"])
    data = {**FRIENDLY, "actions": [{"email": {"target": "issue_owners"}},
                                     {"email": {"team": "platform"}}]}
    changed = {**data, "frequency": "2h", "actions": list(reversed(data["actions"]))}

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with asgi_client(app, token="t") as client:
            teams = (await client.get("/api/0/organizations/acme/teams/")).json()
            directory = Directory(organization="acme", projects={"backend": "1"},
                                  teams={t["slug"]: t["id"] for t in teams},
                                  environments={"production"})
            rules = "/api/0/projects/acme/backend/rules/"
            created = (await client.post(rules, json=KIND.build_payload(
                entry(data), directory=directory))).json()
            updated = (await client.put(f"{rules}{created['id']}/", json=payload_for_update(
                entry(changed), created, directory=directory))).json()
            return created, updated

    created, updated = asyncio.run(run())

    def uuids(rule: dict[str, Any]) -> dict[str, str]:
        return {a["targetType"]: a["uuid"] for a in rule["actions"]}

    assert updated["frequency"] == 120
    assert uuids(updated) == uuids(created) and len(uuids(created)) == 2


def test_unresolvable_workspace_is_not_sent_as_text(directory):
    two = Directory(organization="acme", integrations={
        "1": Integration("1", "A", "slack"), "2": Integration("2", "B", "slack")})
    data = {**FRIENDLY, "actions": [{"slack": {"channel": "#alerts"}}]}
    body = KIND.build_payload(entry(data), directory=two)
    assert body["actions"][0]["workspace"] is None
    refs = [r for r in KIND.references(entry(data)) if r.kind == "integration"]
    assert [(r.name, r.provider) for r in refs] == [("", "slack")]
