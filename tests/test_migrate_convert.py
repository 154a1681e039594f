"""`migration/convert.py`, node by node: every legacy condition, filter and action kind
becomes its workflow form (or a clear problem naming the rule's file:line), match modes map
as Sentry's own migration maps them, and a metric rule becomes a monitor plus an alert that
runs critical-only actions for high-priority issues only. Every converted entry must load
as an `alerts`/`monitors` entry. No Sentry needed: the directory is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dexter_sync.core.directory import Directory, Integration
from dexter_sync.kinds.alerts.kind import AlertEntry
from dexter_sync.kinds.monitors.metric import MetricMonitorEntry
from dexter_sync.manifest import load_manifests
from dexter_sync.migration.convert import Converted, convert
from dexter_sync.migration.files import MARKER, render, write

DIRECTORY = Directory(
    "acme", projects={"backend": "1"}, teams={"platform": "1001"},
    members={"alice@example.com": "2001"},
    integrations={i.id: i for i in (
        Integration("24001", "Acme Slack", "slack"),
        Integration("24002", "Acme PD", "pagerduty"),
        Integration("24003", "Acme Opsgenie", "opsgenie"),
        Integration("24004", "Acme Teams", "msteams"),
        Integration("24005", "Acme Discord", "discord"),
        Integration("24006", "Acme Jira", "jira"),
        Integration("24007", "Acme Jira Server", "jira_server"),
        Integration("24008", "acme-github", "github"),
        Integration("24009", "Acme DevOps", "vsts"),
        Integration("24010", "acme-ghe", "github_enterprise"))},
    environments={"production"})
EMAIL = {"email": {"team": "platform"}}


class PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full (no YAML anchors and aliases)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def converted(tmp_path: Path, sections: dict[str, list[dict[str, Any]]],
              directory: Directory = DIRECTORY) -> Converted:
    """Convert legacy manifests; every converted entry must load in the new model."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\n"
                                          "include: ['*.yaml']\n")
    (tmp_path / "rules.yaml").write_text(yaml.dump(sections, Dumper=PlainDumper,
                                                   sort_keys=False))
    out = convert(load_manifests(tmp_path), directory)
    for alert in out.alerts:
        AlertEntry.model_validate(alert)
    for monitor in out.monitors:
        MetricMonitorEntry.model_validate({k: v for k, v in monitor.items() if k != "type"})
    return out


def issue_rule(**fields: Any) -> dict[str, Any]:
    return {"name": "rule", "project": "backend", "conditions": ["first_seen_event"],
            "actions": [EMAIL], **fields}


def one_alert(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    out = converted(tmp_path, {"issue_alerts": [issue_rule(**fields)]})
    assert out.problems == []
    assert out.sources == {"rule": "issue_alert/backend/rule"}
    [alert] = out.alerts
    return alert


# ---- issue alert rules: conditions --------------------------------------------------------

@pytest.mark.parametrize("trigger", ["first_seen_event", "regression_event",
                                     "reappeared_event", "new_high_priority_issue",
                                     "existing_high_priority_issue"])
def test_each_trigger_condition_becomes_a_trigger(tmp_path, trigger):
    alert = one_alert(tmp_path, conditions=[trigger])
    assert alert == {"name": "rule", "projects": ["backend"], "triggers": [trigger],
                     "trigger_match": "all", "actions": [EMAIL]}


FREQUENCIES = [
    ({"event_frequency": {"value": 100, "interval": "1h"}},
     {"event_frequency_count": {"value": 100, "interval": "1h"}}),
    ({"event_frequency": {"value": 30, "interval": "1d", "comparison_type": "percent",
                          "comparison_interval": "1w"}},
     {"event_frequency_percent": {"value": 30, "interval": "1d",
                                  "comparison_interval": "1w"}}),
    ({"event_unique_user_frequency": {"value": 5, "interval": "15m"}},
     {"event_unique_user_frequency_count": {"value": 5, "interval": "15m"}}),
    ({"event_unique_user_frequency": {"value": 5, "interval": "1h",
                                      "comparison_type": "percent",
                                      "comparison_interval": "1d"}},
     {"event_unique_user_frequency_percent": {"value": 5, "interval": "1h",
                                              "comparison_interval": "1d"}}),
    ({"event_frequency_percent": {"value": 2.5, "interval": "5m"}},
     {"percent_sessions_count": {"value": 2.5, "interval": "5m"}}),
    # a percent comparison without its interval compares with the day before (Sentry's default)
    ({"event_frequency_percent": {"value": 10, "interval": "1h", "comparison_type": "percent"}},
     {"percent_sessions_percent": {"value": 10, "interval": "1h",
                                   "comparison_interval": "1d"}}),
]


@pytest.mark.parametrize(("legacy", "filter_"), FREQUENCIES)
def test_frequency_conditions_become_filters_of_the_action_filter(tmp_path, legacy, filter_):
    alert = one_alert(tmp_path, conditions=["first_seen_event", legacy])
    assert alert["triggers"] == ["first_seen_event"]
    assert alert["filters"] == [filter_]


def test_event_attribute_under_conditions_becomes_a_filter(tmp_path):
    """Sentry accepts EventAttributeCondition under conditions; it is a filter."""
    attribute = {"attribute": "message", "match": "co", "value": "timeout"}
    alert = one_alert(tmp_path, conditions=["regression_event",
                                            {"event_attribute": attribute}])
    assert alert["triggers"] == ["regression_event"]
    assert alert["filters"] == [{"event_attribute": attribute}]


# ---- issue alert rules: filters -----------------------------------------------------------

FILTERS = [
    ("latest_release", "latest_release"),
    ({"age_comparison": {"comparison_type": "older", "value": 3, "time": "day"}},
     {"age_comparison": {"comparison_type": "older", "value": 3, "time": "day"}}),
    ({"issue_occurrences": {"value": 7}}, {"issue_occurrences": {"value": 7}}),
    ({"event_attribute": {"attribute": "http.url", "match": "sw", "value": "https://"}},
     {"event_attribute": {"attribute": "http.url", "match": "sw", "value": "https://"}}),
    ({"tagged_event": {"key": "browser", "match": "eq", "value": "Firefox"}},
     {"tagged_event": {"key": "browser", "match": "eq", "value": "Firefox"}}),
    # `is` (the tag is set) takes no value: none is written
    ({"tagged_event": {"key": "release", "match": "is"}},
     {"tagged_event": {"key": "release", "match": "is"}}),
    ({"level": {"match": "gte", "level": "error"}},
     {"level": {"level": "error", "match": "gte"}}),
    ({"level": {"match": "eq", "level": 50}}, {"level": {"level": "fatal", "match": "eq"}}),
    ({"issue_category": {"value": "performance"}}, {"issue_category": {"value": 2}}),
    ({"issue_category": {"value": 5}}, {"issue_category": {"value": 5}}),
    ({"assigned_to": {"target": "unassigned"}},
     {"assigned_to": {"target_type": "NoOne", "target_identifier": ""}}),
]


@pytest.mark.parametrize(("legacy", "filter_"), FILTERS)
def test_each_filter_kind_becomes_its_workflow_filter(tmp_path, legacy, filter_):
    alert = one_alert(tmp_path, filters=[legacy])
    assert alert["filters"] == [filter_]
    assert "filter_match" not in alert  # `all`, the default of both models


# ---- issue alert rules: actions -----------------------------------------------------------

ACTIONS = [
    ({"email": {"team": "platform"}}, {"email": {"team": "platform"}}),
    ({"email": {"target": "member", "user": "alice@example.com"}},
     {"email": {"user": "alice@example.com"}}),
    ({"email": {"target": "issue_owners"}}, {"email": {"target_type": "issue_owners"}}),
    ({"email": {"target": "issue_owners", "fallthrough": "active_members"}},
     {"email": {"target_type": "issue_owners"}}),
    ({"email": {"target": "issue_owners", "fallthrough": "all_members"}},
     {"email": {"target_type": "issue_owners", "fallthrough": "AllMembers"}}),
    ({"email": {"target": "issue_owners", "fallthrough": "no_one"}},
     {"email": {"target_type": "issue_owners", "fallthrough": "NoOne"}}),
    ({"slack": {"channel": "#alerts", "workspace": "Acme Slack", "tags": ["env", "release"],
                "notes": "see the runbook"}},
     {"slack": {"channel": "#alerts", "workspace": "Acme Slack", "tags": "env,release",
                "notes": "see the runbook"}}),
    ({"slack": {"channel": "#ops"}}, {"slack": {"channel": "#ops", "workspace": "Acme Slack"}}),
    ({"msteams": {"channel": "ops", "team": "Acme Teams"}},
     {"msteams": {"channel": "ops", "team": "Acme Teams"}}),
    ({"discord": {"channel_id": "4411", "server": "Acme Discord", "tags": ["env"]}},
     {"discord": {"channel_id": "4411", "server": "Acme Discord", "tags": "env"}}),
    ({"opsgenie": {"team": "og-1", "account": "Acme Opsgenie", "priority": "P1"}},
     {"opsgenie": {"team": "og-1", "account": "Acme Opsgenie", "priority": "P1"}}),
    ({"opsgenie": {"team": "og-2", "account": "Acme Opsgenie"}},
     {"opsgenie": {"team": "og-2", "account": "Acme Opsgenie"}}),
    # PagerDuty's legacy `severity` is the workflow action's `priority`
    ({"pagerduty": {"service": "55", "account": "Acme PD", "severity": "critical"}},
     {"pagerduty": {"service": "55", "account": "Acme PD", "priority": "critical"}}),
    ({"pagerduty": {"service": 56}}, {"pagerduty": {"service": "56", "account": "Acme PD"}}),
    ({"notify_event_service": {"service": "mail"}}, {"webhook": {"service": "mail"}}),
    ("notify_event", {"plugin": {}}),
]
TICKETS = [
    # the ticket form's keys (and its further `fields`) become the action's `fields`
    ({"jira": {"integration": "Acme Jira", "project": "10000", "issuetype": "10001",
               "fields": {"labels": ["oncall"]}}},
     {"jira": {"integration": "Acme Jira",
               "fields": {"project": "10000", "issuetype": "10001", "labels": ["oncall"]}}}),
    ({"jira_server": {"integration": "Acme Jira Server", "project": 1, "issuetype": 2,
                      "dynamic_form_fields": [{"name": "x"}]}},
     {"jira_server": {"integration": "Acme Jira Server",
                      "fields": {"project": "1", "issuetype": "2"}}}),
    ({"github": {"integration": "acme-github", "repo": "acme/api", "title": "Crash",
                 "labels": ["bug"]}},
     {"github": {"integration": "acme-github",
                 "fields": {"repo": "acme/api", "title": "Crash", "labels": ["bug"]}}}),
    ({"github_enterprise": {"integration": "acme-ghe", "repo": "acme/web"}},
     {"github_enterprise": {"integration": "acme-ghe", "fields": {"repo": "acme/web"}}}),
    # Azure DevOps is `vsts` in the workflow model
    ({"azure_devops": {"integration": "Acme DevOps", "project": "p1",
                       "work_item_type": "Bug"}},
     {"vsts": {"integration": "Acme DevOps",
               "fields": {"project": "p1", "work_item_type": "Bug"}}}),
]


@pytest.mark.parametrize(("legacy", "action"), ACTIONS + TICKETS)
def test_each_action_kind_becomes_its_workflow_action(tmp_path, legacy, action):
    alert = one_alert(tmp_path, actions=[legacy])
    assert alert["actions"] == [action]


def test_a_ticket_action_names_the_only_integration_of_its_provider_or_none(tmp_path):
    jira = {"jira": {"project": "10000", "issuetype": "10001"}}
    assert one_alert(tmp_path, actions=[jira])["actions"] == [
        {"jira": {"integration": "Acme Jira",
                  "fields": {"project": "10000", "issuetype": "10001"}}}]
    bare = Directory("acme", projects={"backend": "1"}, teams={"platform": "1001"})
    out = converted(tmp_path, {"issue_alerts": [issue_rule(actions=[jira])]}, bare)
    assert out.alerts[0]["actions"] == [
        {"jira": {"fields": {"project": "10000", "issuetype": "10001"}}}]


# ---- issue alert rules: rule fields -------------------------------------------------------

@pytest.mark.parametrize(("action_match", "filter_match", "expected"), [
    # `any` is Sentry's any-short (stop at the first match) in the workflow model
    ("any", None, {}),
    ("all", None, {"trigger_match": "all"}),
    ("none", "all", {"trigger_match": "none"}),
    ("any", "any", {"filter_match": "any-short"}),
    ("all", "none", {"trigger_match": "all", "filter_match": "none"}),
])
def test_match_modes(tmp_path, action_match, filter_match, expected):
    fields = {"action_match": action_match, "filters": ["latest_release"]}
    if filter_match is not None:
        fields["filter_match"] = filter_match
    alert = one_alert(tmp_path, **fields)
    assert {k: alert[k] for k in ("trigger_match", "filter_match") if k in alert} == expected


def test_frequency_environment_and_owner_are_kept_and_defaults_left_out(tmp_path):
    alert = one_alert(tmp_path, frequency="1h", environment="production",
                      owner="team:platform", action_match="any")
    assert alert == {"name": "rule", "projects": ["backend"], "frequency": 60,
                     "triggers": ["first_seen_event"], "actions": [EMAIL],
                     "environment": "production", "owner": "team:platform"}
    assert "frequency" not in one_alert(tmp_path, frequency="30m")


def test_a_rule_without_triggers_or_filters_has_neither(tmp_path):
    alert = one_alert(tmp_path, conditions=[], action_match="any")
    assert alert == {"name": "rule", "projects": ["backend"], "actions": [EMAIL]}


# ---- metric alert rules -------------------------------------------------------------------

def metric_rule(**fields: Any) -> dict[str, Any]:
    return {"name": "errors", "project": "backend", "aggregate": "count()",
            "time_window": "5m",
            "triggers": {"critical": {"threshold": 100, "actions": [EMAIL]}}, **fields}


def one_metric(tmp_path: Path, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    out = converted(tmp_path, {"metric_alerts": [metric_rule(**fields)]})
    assert out.problems == []
    assert out.sources == {"errors": "metric_alert/errors"}
    [monitor], [alert] = out.monitors, out.alerts
    return monitor, alert


def test_metric_rule_becomes_a_monitor_and_an_alert_on_it(tmp_path):
    monitor, alert = one_metric(tmp_path)
    assert monitor == {"type": "metric", "name": "errors", "project": "backend",
                       "aggregate": "count()", "time_window": 5,
                       "triggers": {"critical": {"threshold": 100}}}
    assert alert == {"name": "errors", "monitors": ["errors"], "actions": [EMAIL]}


def test_declared_query_fields_move_to_the_monitor(tmp_path):
    monitor, alert = one_metric(
        tmp_path, dataset="transactions", query="transaction:/checkout",
        event_types=["transaction"], threshold_type="below", resolve_threshold=150,
        environment="production", owner="team:platform", description="slow checkout",
        aggregate="p95(transaction.duration)")
    assert monitor == {"type": "metric", "name": "errors", "project": "backend",
                       "aggregate": "p95(transaction.duration)", "time_window": 5,
                       "threshold_type": "below", "dataset": "transactions",
                       "query": "transaction:/checkout", "environment": "production",
                       "owner": "team:platform", "description": "slow checkout",
                       "event_types": ["transaction"], "resolve_threshold": 150,
                       "triggers": {"critical": {"threshold": 100}}}
    assert alert == {"name": "errors", "monitors": ["errors"], "actions": [EMAIL],
                     "environment": "production", "owner": "team:platform"}


def test_percent_change_rule_keeps_its_comparison_window(tmp_path):
    monitor, _ = one_metric(tmp_path, comparison_delta="1d")
    assert monitor["comparison_delta"] == 1440
    assert monitor["triggers"] == {"critical": {"threshold": 100}}


def test_dynamic_rule_becomes_a_dynamic_monitor_without_thresholds(tmp_path):
    monitor, alert = one_metric(
        tmp_path, detection_type="dynamic", sensitivity="high",
        threshold_type="above_and_below", time_window="15m",
        triggers={"critical": {"threshold": 0, "actions": [EMAIL]}})
    assert monitor == {"type": "metric", "name": "errors", "project": "backend",
                       "aggregate": "count()", "time_window": 15,
                       "threshold_type": "above_and_below", "sensitivity": "high",
                       "detection_type": "dynamic"}
    assert alert["actions"] == [EMAIL]


SLACK = {"slack": {"channel": "#alerts", "workspace": "Acme Slack"}}


def test_warning_with_the_critical_actions_needs_no_action_filters(tmp_path):
    monitor, alert = one_metric(tmp_path, triggers={
        "critical": {"threshold": 100, "actions": [SLACK]},
        "warning": {"threshold": 50, "actions": [SLACK]}})
    assert monitor["triggers"] == {"critical": {"threshold": 100}, "warning": {"threshold": 50}}
    assert alert == {"name": "errors", "monitors": ["errors"], "actions": [SLACK]}


def test_actions_only_the_critical_trigger_had_run_for_high_priority_issues_only(tmp_path):
    _, alert = one_metric(tmp_path, triggers={
        "critical": {"threshold": 100, "actions": [SLACK, EMAIL]},
        "warning": {"threshold": 50, "actions": [SLACK]}})
    assert alert == {"name": "errors", "monitors": ["errors"], "action_filters": [
        {"conditions": [{"issue_priority_greater_or_equal": 75}], "actions": [SLACK, EMAIL]},
        {"conditions": [{"issue_priority_greater_or_equal": 50}], "actions": [SLACK]}]}


METRIC_ACTIONS = [
    ({"email": {"user": "alice@example.com"}}, {"email": {"user": "alice@example.com"}}),
    ({"msteams": {"channel": "ops", "team": "Acme Teams"}},
     {"msteams": {"channel": "ops", "team": "Acme Teams"}}),
    ({"discord": {"channel_id": 9, "server": "Acme Discord"}},
     {"discord": {"channel_id": "9", "server": "Acme Discord"}}),
    # the priority Sentry gives a critical trigger's action is written out
    ({"pagerduty": {"service": "7", "account": "Acme PD"}},
     {"pagerduty": {"service": "7", "account": "Acme PD", "priority": "critical"}}),
    ({"opsgenie": {"team": "og-1", "account": "Acme Opsgenie", "priority": "P3"}},
     {"opsgenie": {"team": "og-1", "account": "Acme Opsgenie", "priority": "P3"}}),
    # a workflow action names the app, not its installation
    ({"sentry_app": {"app": 12, "installation_uuid": "abc-1",
                     "settings": [{"name": "team", "value": "core"}]}},
     {"sentry_app": {"app": "12", "settings": [{"name": "team", "value": "core"}]}}),
]


@pytest.mark.parametrize(("legacy", "action"), METRIC_ACTIONS)
def test_each_metric_action_kind_becomes_its_workflow_action(tmp_path, legacy, action):
    _, alert = one_metric(tmp_path, triggers={"critical": {"threshold": 1,
                                                           "actions": [legacy]}})
    assert alert["actions"] == [action]


# ---- what cannot be converted -------------------------------------------------------------

PROBLEMS = [
    ("issue_alerts", issue_rule(actions=[{"sentry_app": {"installation_uuid": "u-1"}}]),
     "issue_alert/backend/rule", "action 'sentry_app' has no workflow equivalent dexter "
     "knows (a Sentry app action needs the app id); convert it by hand"),
    ("issue_alerts", issue_rule(conditions=[{"id": "sentry.rules.conditions.made_up.Thing",
                                             "value": 1}]),
     "issue_alert/backend/rule",
     "node sentry.rules.conditions.made_up.Thing has no workflow equivalent; convert it "
     "by hand"),
    ("issue_alerts", issue_rule(filters=[{"assigned_to": {"team": "platform"}}]),
     "issue_alert/backend/rule", "assigned_to a team or member needs its id; convert it "
     "by hand"),
    ("issue_alerts", issue_rule(filters=[{"assigned_to": {"target": "member",
                                                          "user": "alice@example.com"}}]),
     "issue_alert/backend/rule", "assigned_to a team or member needs its id; convert it "
     "by hand"),
    ("metric_alerts", metric_rule(project=None, projects=[]),
     "metric_alert/errors", "a metric monitor belongs to exactly one project"),
    ("metric_alerts", metric_rule(triggers={"critical": {"threshold": 1, "actions": [
        {"type": "sentry_notification", "target_type": "specific",
         "target_identifier": 3}]}}),
     "metric_alert/errors", "a sentry_notification action in Sentry's own form; convert it "
     "by hand"),
    # windows a legacy rule may use but a metric monitor does not offer
    ("metric_alerts", metric_rule(time_window="3m"), "metric_alert/errors",
     "no metric monitor matches it: time_window must be one of 1m, 5m, 10m, 15m, 30m, 1h, "
     "2h, 4h, 1d, got 3m"),
    ("metric_alerts", metric_rule(comparison_delta="2d"), "metric_alert/errors",
     "no metric monitor matches it: comparison_delta must be one of 5m, 15m, 1h, 1d, 1w, "
     "30d, got 2d"),
]


@pytest.mark.parametrize(("section", "rule", "where", "message"), PROBLEMS)
def test_what_cannot_be_converted_is_named_with_its_file_and_line(tmp_path, section, rule,
                                                                   where, message):
    """The rule is left out with a problem at its file:line; the rules around it convert."""
    if rule.get("project") is None:
        rule.pop("project")
    fine = issue_rule(name="fine")
    out = converted(tmp_path, {"issue_alerts": [fine], section: [rule]}
                    if section == "metric_alerts" else {section: [fine, rule]})
    rules = tmp_path / "rules.yaml"
    line = rules.read_text().splitlines().index(f"- name: {rule['name']}") + 1
    assert out.problems == [f"{where} ({rules}:{line}:3): {message}"]
    assert [a["name"] for a in out.alerts] == ["fine"]
    assert out.monitors == []
    assert out.sources == {"fine": "issue_alert/backend/fine"}


def test_resources_other_than_legacy_alerts_are_left_alone(tmp_path):
    out = converted(tmp_path, {
        "discover_queries": [{"name": "Top", "fields": ["title"]}],
        "issue_alerts": [issue_rule()]})
    assert [a["name"] for a in out.alerts] == ["rule"]
    assert out.monitors == [] and out.problems == []
    assert out.sources == {"rule": "issue_alert/backend/rule"}


# ---- the written manifest -----------------------------------------------------------------

def test_written_manifest_replaces_only_its_own_file_and_loads_as_alerts(tmp_path):
    out = converted(tmp_path / "legacy", {"issue_alerts": [issue_rule()]})
    text = render(out, None)  # no monitors, no schema modeline
    assert text == (f"{MARKER} from the issue_alerts/metric_alerts manifests next to it.\n"
                    "alerts:\n- name: rule\n  projects:\n  - backend\n  triggers:\n"
                    "  - first_seen_event\n  trigger_match: all\n  actions:\n  - email:\n"
                    "      team: platform\n")
    new = tmp_path / "new"
    new.mkdir()
    (new / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n")
    target = new / "alerts.yaml"
    target.write_text(f"{MARKER} from an earlier run.\nalerts: []\n")
    write(target, text)
    assert target.read_text() == text
    [resource] = load_manifests(new).resources
    assert (resource.kind, resource.key) == ("alert", "rule")
