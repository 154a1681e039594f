"""The metric_alert kind: payloads, the quiet-plan normalizations (one named test per
perpetual-diff class), one-field diffs, Sentry's validation rules, export round trip, requests."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from pydantic import ValidationError

from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.diffing import diff_fields, restrict
from dexter_sync.core.directory import Directory, Integration
from dexter_sync.kinds.base import ReadContext
from dexter_sync.kinds.metric_alerts import (
    MetricAlertEntry,
    MetricAlertKind,
    display_aggregate,
    payload_for_update,
)
from tests.helpers_alerts import seeded_alert_app

KIND = MetricAlertKind()


@pytest.fixture
def directory() -> Directory:
    return Directory(
        organization="acme",
        projects={"backend": "4505100000000001", "frontend": "4505100000000002"},
        teams={"platform": "1001"},
        members={"alice@example.com": "2001"},
        integrations={
            "24001": Integration("24001", "Acme Slack", "slack"),
            "24002": Integration("24002", "Acme PD", "pagerduty"),
            "24003": Integration("24003", "Acme Opsgenie", "opsgenie"),
            "24004": Integration("24004", "Acme Teams", "msteams"),
            "24005": Integration("24005", "Acme Discord", "discord"),
        },
        environments={"production"},
        slack_channels={("24001", "#alerts"): "C0ALERTS01"},
    )


FRIENDLY = {
    "name": "Backend error spike",
    "project": "backend",
    "aggregate": "count()",
    "query": "level:error",
    "time_window": "1h",
    "threshold_type": "above",
    "resolve_threshold": 50,
    "environment": "production",
    "owner": "team:platform",
    "triggers": {
        "critical": {"threshold": 100, "actions": [
            {"slack": {"channel": "#alerts"}},
            {"pagerduty": {"service": 9823924, "account": "Acme PD"}},
        ]},
        "warning": {"threshold": 80, "actions": [{"email": {"team": "platform"}}]},
    },
}

SENTRY_FORM = {
    "name": "Backend error spike",
    "projects": ["backend"],
    "aggregate": "count()",
    "query": "level:error",
    "time_window": 60,
    "threshold_type": 0,
    "resolve_threshold": 50,
    "environment": "production",
    "owner": "team:1001",
    "triggers": [
        {"label": "critical", "alert_threshold": 100, "actions": [
            {"type": "slack", "target_type": "specific", "target_identifier": "#alerts",
             "integration_id": 24001, "input_channel_id": "C0ALERTS01"},
            {"type": "pagerduty", "target_type": "specific", "target_identifier": 9823924,
             "integration_id": 24002},
        ]},
        {"label": "warning", "alert_threshold": 80, "actions": [
            {"type": "email", "target_type": "team", "target_identifier": "1001"},
        ]},
    ],
}

# REFERENCE §1.1/§1.2 request shape, written by hand.
EXPECTED_PAYLOAD = {
    "name": "Backend error spike",
    "aggregate": "count()",
    "query": "level:error",
    "dataset": "events",
    "timeWindow": 60,
    "thresholdType": 0,
    "thresholdPeriod": 1,
    "projects": ["backend"],
    "environment": "production",
    "owner": "team:1001",
    "resolveThreshold": 50,
    "detectionType": "static",
    "triggers": [
        {"label": "critical", "alertThreshold": 100, "actions": [
            {"type": "slack", "targetType": "specific", "targetIdentifier": "#alerts",
             "integrationId": 24001, "inputChannelId": "C0ALERTS01"},
            {"type": "pagerduty", "targetType": "specific", "targetIdentifier": 9823924,
             "integrationId": 24002},
        ]},
        {"label": "warning", "alertThreshold": 80, "actions": [
            {"type": "email", "targetType": "team", "targetIdentifier": "1001"},
        ]},
    ],
}


def live_of(payload: dict[str, Any]) -> dict[str, Any]:
    """What Sentry returns for a created rule (REFERENCE §1.5), built by hand from a payload:
    floats, ids, server fields, Slack display name + channel id, ints for pagerduty."""
    live = copy.deepcopy(payload)
    live.update({
        "id": "177104", "organizationId": "4505676595200000", "status": 0,
        "queryType": 0, "resolution": 3.0, "originalAlertRuleId": None,
        "dateCreated": "2026-11-26T09:00:00.000000Z", "dateModified": "2026-11-26T09:00:00.000000Z",
        "createdBy": {"id": 2001, "name": "Alice", "email": "alice@example.com"},
        "description": payload.get("description", ""), "sensitivity": None, "seasonality": None,
        "detectionType": "percent" if payload.get("comparisonDelta") else "static",
        "comparisonDelta": None if payload.get("comparisonDelta") is None
        else float(payload["comparisonDelta"]),
        "environment": payload.get("environment"), "owner": payload.get("owner"),
        "timeWindow": float(payload["timeWindow"]),
        "resolveThreshold": None if payload.get("resolveThreshold") is None
        else float(payload["resolveThreshold"]),
    })
    for n, trigger in enumerate(live["triggers"]):
        trigger.update({"id": str(180000 + n), "alertRuleId": "177104",
                        "alertThreshold": float(trigger["alertThreshold"]),
                        "thresholdType": live["thresholdType"],
                        "resolveThreshold": live["resolveThreshold"]})
        for m, action in enumerate(trigger["actions"]):
            action.update({"id": str(190000 + 10 * n + m), "alertRuleTriggerId": trigger["id"],
                           "dateCreated": "2026-11-26T09:00:00.000000Z", "desc": "notify"})
            action.setdefault("inputChannelId", None)
            action.setdefault("sentryAppId", None)
            action.setdefault("priority", None)
    return live


def entry(data: dict[str, Any]) -> MetricAlertEntry:
    return MetricAlertEntry.model_validate(data)


def canon(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    return KIND.canonical(entry(data), directory=directory)


def live_canon(live: dict[str, Any], directory: Directory) -> dict[str, Any]:
    return KIND.canonical(KIND.entry_from_live(live, directory=directory), directory=directory)


# ---- payloads -------------------------------------------------------------------------------

def test_friendly_payload_equals_reference_shape(directory):
    assert KIND.build_payload(entry(FRIENDLY), directory=directory) == EXPECTED_PAYLOAD


def test_sentry_form_gives_the_same_payload_and_canonical(directory):
    assert KIND.build_payload(entry(SENTRY_FORM), directory=directory) == EXPECTED_PAYLOAD
    assert canon(SENTRY_FORM, directory) == canon(FRIENDLY, directory)


def test_payload_of_every_action_type(directory):
    data = {**FRIENDLY, "resolve_threshold": None, "triggers": {"critical": {
        "threshold": 1, "actions": [
        {"email": {"user": "alice@example.com"}},
        {"opsgenie": {"team": "ops-team-1", "priority": "P2"}},
        {"msteams": {"channel": "General"}},
        {"discord": {"channel_id": 94732897}},
        {"sentry_app": {"app": 77, "installation_uuid": "abc",
                        "settings": [{"name": "team", "value": "x"}]}},
        {"pagerduty": {"service": "42", "priority": "error"}},
    ]}}}
    actions = KIND.build_payload(entry(data), directory=directory)["triggers"][0]["actions"]
    assert actions == [
        {"type": "email", "targetType": "user", "targetIdentifier": "2001"},
        {"type": "opsgenie", "targetType": "specific", "targetIdentifier": "ops-team-1",
         "integrationId": 24003, "priority": "P2"},
        {"type": "msteams", "targetType": "specific", "targetIdentifier": "General",
         "integrationId": 24004},
        {"type": "discord", "targetType": "specific", "targetIdentifier": "94732897",
         "integrationId": 24005},
        {"type": "sentry_app", "targetType": "sentry_app", "targetIdentifier": 77,
         "sentryAppId": 77, "sentryAppInstallationUuid": "abc",
         "settings": [{"name": "team", "value": "x"}]},
        {"type": "pagerduty", "targetType": "specific", "targetIdentifier": 42,
         "integrationId": 24002, "priority": "error"},
    ]


def test_optional_fields_and_raw_are_sent(directory):
    data = {**FRIENDLY, "dataset": "transactions", "aggregate": "p95(transaction.duration)",
            "event_types": ["transaction"], "query_type": "performance",
            "comparison_delta": "1d", "description": "slow", "threshold_period": 3,
            "extrapolation_mode": "unknown", "raw": {"monitorType": 0}}
    body = KIND.build_payload(entry(data), directory=directory)
    assert body["comparisonDelta"] == 1440
    assert body["queryType"] == 1
    assert body["eventTypes"] == ["transaction"]
    assert body["thresholdPeriod"] == 3
    assert body["description"] == "slow"
    assert body["extrapolationMode"] == "unknown"
    assert body["monitorType"] == 0
    assert body["detectionType"] == "percent"  # what Sentry stores for a comparison_delta


def test_undeclared_optional_fields_are_not_sent(directory):
    body = KIND.build_payload(entry({k: v for k, v in FRIENDLY.items()
                                     if k not in ("owner", "environment", "resolve_threshold")}),
                              directory=directory)
    assert not {"owner", "environment", "resolveThreshold", "description"} & set(body)


# ---- perpetual-diff classes (each: canonical(desired) == canonical(live)) -------------------

def test_unchanged_rule_compares_equal(directory):
    payload = KIND.build_payload(entry(FRIENDLY), directory=directory)
    assert live_canon(live_of(payload), directory) == canon(FRIENDLY, directory)


def test_floats_vs_ints(directory):
    live = live_of(EXPECTED_PAYLOAD)
    assert live["timeWindow"] == 60.0 and live["triggers"][0]["alertThreshold"] == 100.0
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_thresholds_as_strings_vs_numbers(directory):
    data = copy.deepcopy(FRIENDLY)
    data["triggers"]["warning"]["threshold"] = "80"
    assert canon(data, directory) == canon(FRIENDLY, directory)
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][1]["alertThreshold"] = "80.0"
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_threshold_float_noise_within_tolerance(directory):
    data = copy.deepcopy(FRIENDLY)
    data["triggers"]["critical"]["threshold"] = 100.1
    data["triggers"]["warning"]["threshold"] = 80.2
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    live["triggers"][0]["alertThreshold"] = 100.09999999999999
    live["triggers"][1]["alertThreshold"] = 80.20000000000002
    assert live_canon(live, directory) == canon(data, directory)


def test_percent_change_thresholds_round_trip(directory):
    data = copy.deepcopy(FRIENDLY)
    data.pop("resolve_threshold")
    data.update(comparison_delta="1h")
    data["triggers"]["critical"]["threshold"] = 10.1
    data["triggers"]["warning"]["threshold"] = 5
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    live["triggers"][0]["alertThreshold"] = 10.099999999999994  # 10.1 -> 110.1 -> back
    live["comparisonDelta"] = 60.0
    assert live["detectionType"] == "percent"
    assert live_canon(live, directory) == canon(data, directory)


def test_server_defaults_and_server_fields_are_ignored(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live.update(description="", detectionType="static", thresholdPeriod=1, snooze=False,
                errors=[], latestIncident={"id": "1"}, extrapolationMode=None)
    canonical = live_canon(live, directory)
    assert canonical == canon(FRIENDLY, directory)
    assert not {"resolution", "status", "date_created", "created_by"} & set(canonical)


def test_projects_in_another_order(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["projects"] = ["frontend", "backend"]
    other = live_of(EXPECTED_PAYLOAD)
    other["projects"] = ["backend", "frontend"]
    assert live_canon(live, directory) == live_canon(other, directory)


def test_actions_in_another_order(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][0]["actions"].reverse()
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_slack_display_name_and_channel_id(directory):
    # Sentry shows the channel's display name (no '#') and moves the id to inputChannelId
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][0]["actions"][0].update(targetIdentifier="alerts",
                                             inputChannelId="C0ALERTS01")
    by_id = copy.deepcopy(FRIENDLY)
    by_id["triggers"]["critical"]["actions"][0] = {"slack": {"channel": "C0ALERTS01",
                                                             "workspace": "Acme Slack"}}
    assert live_canon(live, directory) == canon(FRIENDLY, directory) == canon(by_id, directory)


def test_integration_and_pagerduty_ids_as_ints_or_strings(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][0]["actions"][1].update(targetIdentifier="9823924", integrationId="24002")
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_default_priority_filled_by_sentry(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][0]["actions"][1]["priority"] = "critical"  # Sentry's default for critical
    assert live_canon(live, directory) == canon(FRIENDLY, directory)


def test_aggregate_display_rewriting(directory):
    assert display_aggregate("count_unique(tags[sentry:user])") == "count_unique(user)"
    assert display_aggregate("upsampled_count()") == "count()"
    crash = "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate"
    assert display_aggregate(crash) == \
        "percentage(sessions_crashed,sessions) AS _crash_rate_alert_aggregate"
    assert display_aggregate(" percentile( transaction.duration , 0.9 ) ") == \
        "percentile(transaction.duration,0.9)"
    assert display_aggregate("p95(transaction.duration)") != display_aggregate("p50(x)")
    data = {**FRIENDLY, "aggregate": "count_unique(tags[sentry:user])"}
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    live["aggregate"] = "count_unique(user)"
    assert live_canon(live, directory) == canon(data, directory)


def test_owner_ids_vs_slugs(directory):
    live = live_of(EXPECTED_PAYLOAD)
    assert live["owner"] == "team:1001"
    assert live_canon(live, directory)["owner"] == "team:platform"
    data = {**FRIENDLY, "owner": "user:Alice@example.com"}
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    assert live["owner"] == "user:2001"
    assert live_canon(live, directory) == canon(data, directory)


def test_event_types_absent_from_list_responses(directory):
    data = {**FRIENDLY, "event_types": ["error", "default"]}
    desired = canon(data, directory)
    live = live_of(EXPECTED_PAYLOAD)  # list items carry no eventTypes
    assert "event_types" not in live and "event_types" in KIND.live_optional_fields
    assert "event_types" not in live_canon(live, directory)
    detail = {**live, "eventTypes": ["default", "error"]}  # detail GET: sorted
    assert live_canon(detail, directory) == desired


def test_declared_null_compares_equal_to_absent(directory):
    data = {**FRIENDLY, "resolve_threshold": None}
    desired = canon(data, directory)
    assert desired["resolve_threshold"] is None
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    assert restrict(live_canon(live, directory), desired) == desired


# ---- real differences -------------------------------------------------------------------

@pytest.mark.parametrize("path, value, field", [
    (("time_window",), "2h", ("time_window",)),
    (("query",), "level:fatal", ("query",)),
    (("threshold_period",), 5, ("threshold_period",)),
    (("owner",), "user:alice@example.com", ("owner",)),
    (("triggers", "warning", "threshold"), 90, ("triggers", "warning", "threshold")),
])
def test_one_field_change_gives_exactly_that_difference(directory, path, value, field):
    live = live_of(EXPECTED_PAYLOAD)
    data = copy.deepcopy(FRIENDLY)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    desired = canon(data, directory)
    changes = diff_fields(restrict(live_canon(live, directory), desired), desired)
    assert [c.path for c in changes] == [field]
    assert changes[0].after == desired[field[0]] if len(field) == 1 else True


def test_changed_slack_channel_is_a_difference(directory):
    data = copy.deepcopy(FRIENDLY)
    data["triggers"]["critical"]["actions"][0] = {"slack": {"channel": "#ops"}}
    desired = canon(data, directory)
    changes = diff_fields(restrict(live_canon(live_of(EXPECTED_PAYLOAD), directory), desired),
                          desired)
    assert {c.path[:3] for c in changes} == {("triggers", "critical", "actions")}


# ---- validation (Sentry's own ranges and rules) ----------------------------------------------

@pytest.mark.parametrize("change, message", [
    ({"time_window": "2d"}, "time_window must be between"),
    ({"time_window": 0}, "positive"),
    ({"time_window": "30s"}, "whole number"),
    ({"threshold_period": 21}, "less than or equal to 20"),
    ({"threshold_period": 0}, "greater than or equal to 1"),
    ({"comparison_delta": "90d"}, "comparison_delta must be between"),
    ({"name": "  "}, "name must not be empty"),
    ({"name": ""}, "at least 1 character"),
    ({"name": "x" * 257}, "at most 256"),
    ({"threshold_type": "sideways"}, "Input should be"),
    ({"threshold_type": "above_and_below"}, "only valid for detection_type dynamic"),
    ({"dataset": "metrics", "aggregate": "percentage(sessions_crashed, sessions)",
      "time_window": "5m"}, "crash-rate"),
    ({"dataset": "events_analytics_platform", "time_window": "1m"}, "at least 5m"),
    ({"query_type": "performance"}, "does not match dataset"),
    ({"detection_type": "percent"}, "requires comparison_delta"),
    ({"detection_type": "dynamic"}, "requires sensitivity"),
    ({"sensitivity": "high"}, "only valid for detection_type dynamic"),
    ({"query": "release:latest"}, "release:latest"),
    ({"owner": "platform"}, "owner must be"),
    ({"projects": ["backend"]}, "either project or projects"),
    ({"raw": {"timeWindow": 5}}, "raw may not set modelled fields"),
    ({"event_types": ["errors"]}, "Input should be"),
    ({"time_windw": "1h"}, "Extra inputs are not permitted"),
])
def test_validation_errors(change, message):
    with pytest.raises(ValidationError, match=message):
        entry({**FRIENDLY, **change})


def test_warning_threshold_on_the_wrong_side_of_critical():
    data = copy.deepcopy(FRIENDLY)
    data["triggers"]["warning"]["threshold"] = 120
    with pytest.raises(ValidationError, match="must be at or above the warning"):
        entry(data)
    data["threshold_type"] = "below"
    data.pop("resolve_threshold")
    entry(data)  # below: critical 100 under warning 120 is right
    data["triggers"]["warning"]["threshold"] = 50
    with pytest.raises(ValidationError, match="must be at or below the warning"):
        entry(data)


def test_resolve_threshold_side():
    with pytest.raises(ValidationError, match="must be above the resolve threshold"):
        entry({**FRIENDLY, "resolve_threshold": 90})  # warning 80 + 1 <= 90 - 1
    entry({**FRIENDLY, "resolve_threshold": 81})  # integers: 80 + 1 > 81 - 1 passes
    with pytest.raises(ValidationError, match="must be above the resolve threshold"):
        entry({**FRIENDLY, "resolve_threshold": 80.5})  # fractions: strictly greater
    with pytest.raises(ValidationError, match="must be below the resolve threshold"):
        entry({**FRIENDLY, "threshold_type": "below", "resolve_threshold": 50,
               "triggers": {"critical": {"threshold": 60, "actions": [{"email": {"team": "x"}}]}}})


@pytest.mark.parametrize("triggers, message", [
    ({"critical": {"threshold": 1, "actions": []}}, "at least one action"),
    ({"warning": {"threshold": 1, "actions": [{"email": {"team": "x"}}]}}, "critical"),
    ([{"label": "warning", "alert_threshold": 1, "actions": [{"email": {"team": "x"}}]}],
     "critical trigger"),
    ({"critical": {"threshold": "lots", "actions": [{"email": {"team": "x"}}]}}, "a number"),
    ({"critical": {"threshold": 1, "actions": [{"email": {}}]}}, "exactly one of"),
    ({"critical": {"threshold": 1, "actions": [{"slack": {"channel": "#a"},
                                                "email": {"team": "x"}}]}}, "exactly one of"),
    ({"critical": {"threshold": 1, "actions": [{"sms": {"to": "x"}}]}}, "Extra inputs"),
    ({"critical": {"threshold": 1, "actions": [{"pagerduty": {"service": 1, "priority": "P1"}}]}},
     "Input should be"),
    ({"critical": {"threshold": 1, "actions": [
        {"type": "email", "target_type": "team", "target_identifier": "1", "priority": "P1"}]}},
     "only valid for pagerduty and opsgenie"),
])
def test_trigger_validation(triggers, message):
    with pytest.raises(ValidationError, match=message):
        entry({**FRIENDLY, "resolve_threshold": None, "triggers": triggers})


# ---- export, updates, requests, references ----------------------------------------------------

def test_export_round_trip(directory):
    live = live_of(KIND.build_payload(entry({**FRIENDLY, "description": "d",
                                             "comparison_delta": "1d"}), directory=directory))
    exported = KIND.export(live, directory=directory)
    assert exported["project"] == "backend" and exported["time_window"] == "1h"
    assert exported["owner"] == "team:platform"
    assert "threshold_type" not in exported and "detection_type" not in exported
    assert exported["triggers"]["critical"]["actions"][0] == {
        "slack": {"channel": "#alerts", "workspace": "Acme Slack"}}
    # the priority Sentry fills in is left out; the aggregate is written as Sentry shows it
    assert exported["triggers"]["critical"]["actions"][1] == {
        "pagerduty": {"service": "9823924", "account": "Acme PD"}}
    reparsed = MetricAlertEntry.model_validate(exported)
    assert KIND.canonical(reparsed, directory=directory) == live_canon(live, directory)
    live["aggregate"] = "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate"
    assert KIND.export(live, directory=directory)["aggregate"] == live["aggregate"]


def test_export_uses_sentry_form_only_without_a_friendly_one(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][1]["actions"] = [{"id": "5", "type": "sentry_notification",
                                       "targetType": "specific", "targetIdentifier": None,
                                       "integrationId": None}]
    exported = KIND.export(live, directory=directory)
    assert exported["triggers"]["warning"]["actions"] == [
        {"type": "sentry_notification", "target_type": "specific"}]
    assert KIND.canonical(MetricAlertEntry.model_validate(exported), directory=directory) == \
        live_canon(live, directory)


def test_update_echoes_trigger_and_action_ids(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][0]["actions"].reverse()
    data = copy.deepcopy(FRIENDLY)
    data["triggers"]["critical"]["threshold"] = 150
    body = payload_for_update(entry(data), live, directory=directory)
    critical = body["triggers"][0]
    assert critical["id"] == "180000" and body["triggers"][1]["id"] == "180001"
    assert [a["id"] for a in critical["actions"]] == ["190000", "190001"]
    assert critical["alertThreshold"] == 150
    change = ResourceChange(Action.UPDATE, "metric_alert", "x", live_id="177104",
                            payload=KIND.build_payload(entry(data), directory=directory),
                            live=live)
    request = KIND.update_request("acme", change)
    assert request.method == "PUT" and request.path == "organizations/acme/alert-rules/177104/"
    assert request.json == body


def test_requests(directory):
    listing = KIND.list_requests(ReadContext("acme", directory, ["backend"]))
    assert [(r.request.method, r.request.path, r.request.params) for r in listing] == [
        ("GET", "organizations/acme/alert-rules/", {"per_page": 100})]
    change = ResourceChange(Action.CREATE, "metric_alert", "x", payload={"name": "x"})
    assert KIND.create_request("acme", change).path == "organizations/acme/alert-rules/"
    assert KIND.create_request("acme", change).json == {"name": "x"}
    gone = ResourceChange(Action.DELETE, "metric_alert", "x", live_id="7")
    assert (KIND.delete_request("acme", gone).method, KIND.delete_request("acme", gone).path) == \
        ("DELETE", "organizations/acme/alert-rules/7/")
    assert KIND.live_key({"name": "x"}, directory=directory, project=None, parent=None) == "x"
    assert KIND.key(entry(FRIENDLY)) == "Backend error spike"


def test_references(directory):
    refs = {(r.kind, r.name, r.provider, r.path) for r in KIND.references(entry(FRIENDLY))}
    assert ("project", "backend", None, ("project",)) in refs
    assert ("environment", "production", None, ("environment",)) in refs
    assert ("team", "platform", None, ("owner",)) in refs
    assert ("integration", "", "slack",
            ("triggers", "critical", "actions", 0, "slack", "workspace")) in refs
    assert ("slack_channel", "#alerts", None,
            ("triggers", "critical", "actions", 0, "slack", "channel")) in refs
    assert ("integration", "Acme PD", "pagerduty",
            ("triggers", "critical", "actions", 1, "pagerduty", "account")) in refs
    assert ("team", "platform", None,
            ("triggers", "warning", "actions", 0, "email", "team")) in refs


# ---- against the emulator (HTTP over httpx's ASGI transport) ---------------------------------

EMULATOR_RULES: list[dict[str, Any]] = [
    {**FRIENDLY, "name": "friendly, every field", "description": "Paged when errors spike",
     "threshold_period": 2, "event_types": ["error", "default"]},
    {"name": "below, warning, every action", "project": "frontend", "aggregate": "count()",
     "time_window": "5m", "threshold_type": "below", "resolve_threshold": 20,
     "triggers": {
         "critical": {"threshold": 5, "actions": [
             {"email": {"user": "alice@example.com"}},
             {"opsgenie": {"team": "ops-team-1", "priority": "P2"}},
             {"msteams": {"channel": "General"}},
             {"discord": {"channel_id": "94732897"}},
         ]},
         "warning": {"threshold": 10.5, "actions": [
             {"pagerduty": {"service": "9823924", "priority": "warning"}},
             {"slack": {"channel": "alerts", "workspace": "Acme Slack"}},
         ]}}},
    {"name": "percent change", "project": "backend", "aggregate": "count()", "time_window": 60,
     "comparison_delta": "1w", "triggers": {
         "critical": {"threshold": 10.1, "actions": [{"email": {"team": "platform"}}]},
         "warning": {"threshold": 5, "actions": [{"email": {"team": "platform"}}]}}},
    {"name": "transactions p95", "project": "backend", "dataset": "transactions",
     "aggregate": "p95(transaction.duration)", "query": "transaction:/checkout",
     "time_window": "15m", "event_types": ["transaction"],
     "triggers": {"critical": {"threshold": 1500.5,
                               "actions": [{"email": {"team": "platform"}}]}}},
    {"name": "performance metrics", "project": "backend", "dataset": "generic_metrics",
     "aggregate": "count_unique(tags[sentry:user])", "time_window": "30m",
     "triggers": {"critical": {"threshold": 100, "actions": [{"email": {"team": "platform"}}]}}},
    {"name": "crash rate", "project": "backend", "dataset": "metrics",
     "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
     "time_window": "1h", "threshold_type": "above",
     "triggers": {"critical": {"threshold": 2, "actions": [{"email": {"team": "platform"}}]}}},
    {"name": "spans", "project": "backend", "dataset": "events_analytics_platform",
     "aggregate": "count(span.duration)", "time_window": "1h",
     "triggers": {"critical": {"threshold": 1000,
                               "actions": [{"email": {"team": "platform"}}]}}},
]


def sentry_form_for(directory: Directory) -> dict[str, Any]:
    """SENTRY_FORM with the emulator's ids."""
    slack = directory.integration("Acme Slack", "slack")
    pagerduty = directory.integration("Acme PD", "pagerduty")
    rule = copy.deepcopy(SENTRY_FORM)
    rule.update(name="sentry form", owner=f"user:{directory.user_id('alice@example.com')}")
    critical, warning = rule["triggers"]
    critical["actions"][0].update(integration_id=int(slack.id),
                                  input_channel_id=directory.slack_channels[(slack.id, "#alerts")])
    critical["actions"][1]["integration_id"] = pagerduty.id
    warning["actions"][0]["target_identifier"] = directory.team_id("platform")
    return rule


def _emulator_directory(app: Any, listing: dict[str, Any]) -> Directory:
    store = app.state.store
    org = next(o for o in store.query("org") if o["slug"] == "acme")
    integrations = {i["id"]: Integration(i["id"], i["name"], i["provider"]["key"])
                    for i in listing["integrations"]}
    return Directory(
        organization="acme",
        projects={p["slug"]: p["id"] for p in listing["projects"]},
        teams={t["slug"]: t["id"] for t in listing["teams"]},
        members={m["email"]: m["user"]["id"] for m in listing["members"]},
        integrations=integrations,
        environments={e["name"] for e in listing["environments"]},
        slack_channels={(str(c["integrationId"]), "#" + c["name"]): c["channelId"]
                        for c in store.query("slack_channel", org["id"])},
    )


def comparable(desired: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The live canonical as the planner compares it (desired keys; list-absent fields)."""
    view = restrict(live, desired)
    for key in KIND.live_optional_fields:
        if key in desired and view.get(key) is None:
            view[key] = desired[key]
    return view


async def _read_directory(client: Any, app: Any) -> Directory:
    listing = {name: (await client.get(f"/api/0/organizations/acme/{name}/")).json()
               for name in ("projects", "teams", "members", "integrations", "environments")}
    return _emulator_directory(app, listing)


def test_emulator_round_trip_of_every_dataset_trigger_and_action():
    from dexter_sync.emulator.testing import asgi_client

    app = seeded_alert_app()

    async def run() -> tuple[Directory, list[dict[str, Any]], list[Any]]:
        async with asgi_client(app, token="t") as client:
            directory = await _read_directory(client, app)
            statuses = []
            for rule in [*EMULATOR_RULES, sentry_form_for(directory)]:
                body = KIND.build_payload(entry(rule), directory=directory)
                response = await client.post("/api/0/organizations/acme/alert-rules/", json=body)
                statuses.append((rule["name"], response.status_code, response.text[:300]))
            live = (await client.get("/api/0/organizations/acme/alert-rules/",
                                     params={"per_page": 100})).json()
            return directory, live, statuses

    directory, live, statuses = asyncio.run(run())
    assert [s for s in statuses if s[1] != 201] == []
    by_name = {rule["name"]: rule for rule in live}
    rules = [*EMULATOR_RULES, sentry_form_for(directory)]
    assert set(by_name) == {rule["name"] for rule in rules}
    for rule in rules:
        desired = canon(rule, directory)
        assert comparable(desired, live_canon(by_name[rule["name"]], directory)) == desired, \
            rule["name"]
        exported = KIND.export(by_name[rule["name"]], directory=directory)
        assert KIND.canonical(MetricAlertEntry.model_validate(exported), directory=directory) \
            == live_canon(by_name[rule["name"]], directory)


# ---- live objects no manifest could declare ---------------------------------------------------

def test_live_trigger_without_actions_is_readable(directory):
    live = live_of(EXPECTED_PAYLOAD)
    live["triggers"][1]["actions"] = []
    assert live_canon(live, directory)["triggers"]["warning"] == {"threshold": 80, "actions": []}


def test_unreadable_live_rule_is_a_clear_error(directory):
    from dexter_sync.core.diagnostics import DexterError

    live = live_of(EXPECTED_PAYLOAD)
    live["dataset"] = "future_dataset"
    with pytest.raises(DexterError, match="live metric alert 'Backend error spike'.*dataset"):
        KIND.entry_from_live(live, directory=directory)


def test_sentry_ids_are_not_names_to_check(directory):
    refs = {(r.kind, r.name) for r in KIND.references(entry(SENTRY_FORM))}
    assert ("team", "1001") not in refs and ("member", "1001") not in refs
    assert ("integration", "24001") in refs and ("project", "backend") in refs


def test_emulator_update_keeps_trigger_and_action_ids():
    from dexter_sync.emulator.testing import asgi_client

    app = seeded_alert_app()
    changed = copy.deepcopy(FRIENDLY)
    changed["triggers"]["critical"]["threshold"] = 150
    changed["triggers"]["critical"]["actions"].reverse()

    async def run() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with asgi_client(app, token="t") as client:
            directory = await _read_directory(client, app)
            rules = "/api/0/organizations/acme/alert-rules/"
            created = (await client.post(rules, json=KIND.build_payload(
                entry(FRIENDLY), directory=directory))).json()
            kept = (await client.put(f"{rules}{created['id']}/", json=payload_for_update(
                entry(changed), created, directory=directory))).json()
            # the same PUT without the ids: Sentry recreates triggers and actions
            renewed = (await client.put(f"{rules}{created['id']}/", json=KIND.build_payload(
                entry(changed), directory=directory))).json()
            return created, kept, renewed

    created, kept, renewed = asyncio.run(run())

    def ids(rule: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return [(t["id"], sorted(a["id"] for a in t["actions"])) for t in rule["triggers"]]

    assert kept["triggers"][0]["alertThreshold"] == 150
    assert ids(kept) == ids(created)
    assert not set(dict(ids(renewed))) & set(dict(ids(created)))


def test_large_whole_thresholds_stay_exact(directory):
    data = copy.deepcopy(FRIENDLY)
    data.pop("resolve_threshold")
    data["triggers"]["critical"]["threshold"] = 1234567
    data["triggers"]["warning"]["threshold"] = 1234566
    live = live_of(KIND.build_payload(entry(data), directory=directory))
    assert live["triggers"][0]["alertThreshold"] == 1234567.0
    assert live_canon(live, directory) == canon(data, directory)
    data["triggers"]["critical"]["threshold"] = 1234568
    assert live_canon(live, directory) != canon(data, directory)
