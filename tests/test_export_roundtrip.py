"""`dexter export` round trip: an emulator seeded in Sentry's own forms (as a UI user would
create them) with every alert condition, filter, action, trigger, dataset and query option
REFERENCE.md lists is exported; the files validate and plan to zero changes, for every kind.
Also: the tree is written atomically, and ambiguous objects are left out and reported.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dexter_sync.cli.export import read_for_export
from dexter_sync.core.requests import ApiRequest
from dexter_sync.manifest import load_manifests
from dexter_sync.manifest.exporting import build_export, write_tree
from dexter_sync.render.jsonplan import render_json
from tests.helpers_org import ORG, Org

TOKEN = "export-test-token"
RULE = "sentry.rules."
ALL_KINDS = ["metric_alert", "issue_alert", "discover_query", "release", "deploy",
             "repository", "code_mapping"]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def org(tmp_path):
    created = Org(tmp_path / "unused", TOKEN)
    created.app.state.store.ensure_names(
        ORG, integrations=[(p, f"acme-{p}") for p in (
            "opsgenie", "msteams", "discord", "jira", "jira_server", "github", "vsts")],
        members=["bo@example.com"], environments=["staging"],
        repositories=[("acme/backend", "acme-github")])
    yield created
    asyncio.run(created.close())


def issue_rules(d) -> list[dict]:
    def integ(provider: str) -> str:
        return d.integration("", provider).id if provider in ("slack", "pagerduty") else next(
            i.id for i in d.integrations.values() if i.provider == provider)

    team, user = d.team_id("backend-team"), d.user_id("ana@example.com")
    c = RULE + "conditions."
    email = {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
             "fallthroughType": "ActiveMembers"}
    rules = [
        {"name": "All conditions", "actionMatch": "any", "frequency": 60, "conditions": [
            {"id": c + "first_seen_event.FirstSeenEventCondition"},
            {"id": c + "regression_event.RegressionEventCondition"},
            {"id": c + "reappeared_event.ReappearedEventCondition"},
            {"id": c + "high_priority_issue.NewHighPriorityIssueCondition"},
            {"id": c + "high_priority_issue.ExistingHighPriorityIssueCondition"},
            {"id": c + "event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h"},
            {"id": c + "event_frequency.EventFrequencyCondition", "value": "50",
             "interval": "1d", "comparisonType": "percent", "comparisonInterval": "1w"},
            {"id": c + "event_frequency.EventUniqueUserFrequencyCondition", "value": 10,
             "interval": "15m", "comparisonType": "count"},
            {"id": c + "event_frequency.EventFrequencyPercentCondition", "value": 2.5,
             "interval": "30m"}], "actions": [email]},
        {"name": "All filters", "actionMatch": "all", "filterMatch": "any", "frequency": 5,
         "environment": "production", "owner": f"team:{team}",
         "conditions": [{"id": c + "first_seen_event.FirstSeenEventCondition"}], "filters": [
             {"id": RULE + "filters.age_comparison.AgeComparisonFilter",
              "comparison_type": "older", "value": 3, "time": "day"},
             {"id": RULE + "filters.issue_occurrences.IssueOccurrencesFilter", "value": "25"},
             {"id": RULE + "filters.assigned_to.AssignedToFilter", "targetType": "Unassigned"},
             {"id": RULE + "filters.assigned_to.AssignedToFilter", "targetType": "Team",
              "targetIdentifier": team},
             {"id": RULE + "filters.assigned_to.AssignedToFilter", "targetType": "Member",
              "targetIdentifier": user},
             {"id": RULE + "filters.latest_release.LatestReleaseFilter"},
             {"id": RULE + "filters.issue_category.IssueCategoryFilter", "value": "1"},
             {"id": c + "event_attribute.EventAttributeCondition", "attribute": "platform",
              "match": "eq", "value": "python"},
             {"id": c + "event_attribute.EventAttributeCondition", "attribute": "message",
              "match": "is"},
             {"id": RULE + "filters.tagged_event.TaggedEventFilter", "key": "env",
              "match": "co", "value": " prod "},
             {"id": RULE + "filters.level.LevelFilter", "match": "gte", "level": "40"}],
         "actions": [email]},
        {"name": "All actions", "actionMatch": "all", "filterMatch": "none", "frequency": 1440,
         "conditions": [{"id": c + "regression_event.RegressionEventCondition"}],
         "filters": [{"id": RULE + "filters.level.LevelFilter", "match": "eq", "level": "50"}],
         "actions": [
             email,
             {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Team",
              "targetIdentifier": team, "fallthroughType": "AllMembers"},
             {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Member",
              "targetIdentifier": user, "fallthroughType": "NoOne"},
             {"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
              "workspace": int(integ("slack")), "channel": "alerts", "tags": "env,release",
              "notes": "see runbook"},
             {"id": "sentry.integrations.msteams.notify_action.MsTeamsNotifyServiceAction",
              "team": integ("msteams"), "channel": "Ops"},
             {"id": "sentry.integrations.discord.notify_action.DiscordNotifyServiceAction",
              "server": integ("discord"), "channel_id": "12345", "tags": "level"},
             {"id": "sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction",
              "account": integ("pagerduty"), "service": "45", "severity": "critical"},
             {"id": "sentry.integrations.opsgenie.notify_action.OpsgenieNotifyTeamAction",
              "account": integ("opsgenie"), "team": "ops-team", "priority": "P2"},
             {"id": "sentry.integrations.jira.notify_action.JiraCreateTicketAction",
              "integration": integ("jira"), "project": "10000", "issuetype": "10001"},
             {"id": "sentry.integrations.jira_server.notify_action.JiraServerCreateTicketAction",
              "integration": integ("jira_server"), "project": "20000", "issuetype": "3"},
             {"id": "sentry.integrations.github.notify_action.GitHubCreateTicketAction",
              "integration": integ("github"), "repo": "acme/backend", "labels": ["bug"]},
             {"id": "sentry.integrations.vsts.notify_action.AzureDevopsCreateTicketAction",
              "integration": integ("vsts"), "project": "Acme", "work_item_type": "Bug"},
             {"id": RULE + "actions.notify_event_service.NotifyEventServiceAction",
              "service": "mail"},
             {"id": RULE + "actions.notify_event.NotifyEventAction"}]},
    ]
    return rules


def metric_rules(d) -> list[dict]:
    team, user = d.team_id("backend-team"), d.user_id("ana@example.com")
    slack, pd = d.integration("", "slack").id, d.integration("", "pagerduty").id
    ops = next(i.id for i in d.integrations.values() if i.provider == "opsgenie")
    teams = next(i.id for i in d.integrations.values() if i.provider == "msteams")
    discord = next(i.id for i in d.integrations.values() if i.provider == "discord")

    def action(kind: str, target_type: str, ident, integration=None, **extra) -> dict:
        return {"type": kind, "targetType": target_type, "targetIdentifier": ident,
                "integrationId": integration, **extra}

    base = {"query": "", "thresholdType": 0, "projects": ["backend"]}
    return [
        {**base, "name": "Errors every action", "aggregate": "count()", "dataset": "events",
         "timeWindow": 5, "resolveThreshold": 10, "thresholdPeriod": 3,
         "environment": "production", "owner": f"user:{user}", "description": "runbook",
         "eventTypes": ["error", "default"], "triggers": [
             {"label": "critical", "alertThreshold": 100, "actions": [
                 action("email", "team", team), action("email", "user", user),
                 action("pagerduty", "specific", "45", pd, priority="critical"),
                 action("opsgenie", "specific", "ops-team", ops, priority="P1")]},
             {"label": "warning", "alertThreshold": 50, "actions": [
                 action("slack", "specific", "#alerts", slack),
                 action("msteams", "specific", "Ops", teams),
                 action("discord", "specific", "12345", discord)]}]},
        {**base, "name": "Transactions below", "aggregate": "p95(transaction.duration)",
         "dataset": "transactions", "queryType": 1, "timeWindow": 60, "thresholdType": 1,
         "query": "transaction:/api/*", "owner": f"team:{team}", "triggers": [
             {"label": "critical", "alertThreshold": 200.5,
              "actions": [action("email", "team", team)]}]},
        {**base, "name": "Percent change", "aggregate": "count_unique(tags[sentry:user])",
         "dataset": "events", "timeWindow": 15, "comparisonDelta": 1440, "triggers": [
             {"label": "critical", "alertThreshold": 30,
              "actions": [action("email", "team", team)]}]},
        {**base, "name": "Crash rate", "dataset": "metrics", "queryType": 2,
         "aggregate": "percentage(sessions_crashed, sessions) AS _crash_rate_alert_aggregate",
         "timeWindow": 60, "triggers": [{"label": "critical", "alertThreshold": 5,
                                         "actions": [action("email", "team", team)]}]},
        {**base, "name": "Generic metrics", "dataset": "generic_metrics", "queryType": 1,
         "aggregate": "apdex(300)", "timeWindow": 30, "thresholdType": 1, "triggers": [
             {"label": "critical", "alertThreshold": 0.7,
              "actions": [action("email", "team", team)]}]},
        {**base, "name": "Spans", "dataset": "events_analytics_platform", "queryType": 1,
         "aggregate": "count(span.duration)", "timeWindow": 10,
         "eventTypes": ["trace_item_span"], "extrapolationMode": "client_and_server_weighted",
         "triggers": [{"label": "critical", "alertThreshold": 1000,
                       "actions": [action("email", "team", team)]}]},
    ]


def api_seeds(d) -> list[ApiRequest]:
    org = f"organizations/{ORG}"
    backend, frontend = int(d.project_id("backend")), int(d.project_id("frontend"))
    repo = d.repository("acme/backend")
    return [
        ApiRequest("POST", f"{org}/discover/saved/", json={
            "name": "Every option", "version": 2, "projects": [frontend, backend],
            "queryDataset": "error-events", "fields": ["title", "count()"],
            "query": "event.type:error", "orderby": "-count", "range": "14d",
            "environment": ["production", "staging"], "yAxis": ["count()"],
            "display": "top5", "topEvents": 5, "interval": "1h", "widths": ["-1", "200"]}),
        ApiRequest("POST", f"{org}/discover/saved/", json={
            "name": "All projects, fixed window", "version": 2, "projects": [-1],
            "queryDataset": "transaction-like", "fields": ["transaction", "p95()"],
            "start": "2024-05-01T00:00:00", "end": "2024-05-02T00:00:00",
            "display": "default"}),
        ApiRequest("POST", f"{org}/releases/", json={
            "version": "backend@1.0.0", "projects": ["backend"], "ref": "v1.0.0",
            "url": "https://example.com/r/1", "dateReleased": "2024-05-01T12:00:00Z"}),
        ApiRequest("POST", f"{org}/releases/backend%401.0.0/deploys/", json={
            "environment": "production", "name": "prod-1", "url": "https://ci.example/1"}),
        ApiRequest("POST", f"{org}/code-mappings/", json={
            "projectId": str(backend), "repositoryId": repo.id, "stackRoot": "app/",
            "sourceRoot": "src/app/", "defaultBranch": "main", "integrationId":
                repo.integration_id}),
    ]


async def seed(org: Org) -> None:
    d = await org.facade.read_directory(fresh=True)
    for rule in metric_rules(d):
        await org.oob("metric_rule", "create", fields=rule)
    for rule in issue_rules(d):
        await org.oob("issue_rule", "create", fields=rule, project="backend")
    for request in api_seeds(d):
        response = await org.facade.send(request)
        assert response.status < 300, (request.path, response.body)


async def export_and_plan(org: Org, out: Path):
    live = await read_for_export(org.facade, ORG, ALL_KINDS)
    result = build_export(live, organization=ORG)
    write_tree(result.files, out)
    org.dir = out
    return result, await org.plan()


def test_export_of_every_option_plans_to_zero_changes(org, tmp_path):
    run(seed(org))
    result, plan = run(export_and_plan(org, tmp_path / "exported"))
    assert result.skipped == []
    assert result.counts == {"metric_alert": 6, "issue_alert": 3, "discover_query": 2,
                             "release": 1, "deploy": 1, "repository": 1, "code_mapping": 1}
    assert not plan.has_changes, render_json(plan)
    assert plan.notes == []
    assert plan.unchanged == sum(result.counts.values())
    files = sorted(p.relative_to(tmp_path / "exported").as_posix()
                   for p in (tmp_path / "exported").rglob("*") if p.is_file())
    assert "issue_alerts/backend.yaml" in files and "metric_alerts.yaml" in files
    assert "schemas/resources.schema.json" in files
    text = (tmp_path / "exported" / "issue_alerts" / "backend.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/resources.schema.json")
    # friendly forms where they exist
    assert "first_seen_event" in text and "sentry.rules.conditions" not in text


def test_export_leaves_out_ambiguous_objects_and_reports_them(org, tmp_path):
    d = run(org.facade.read_directory(fresh=True))
    rule = metric_rules(d)[1]
    run(org.oob("metric_rule", "create", fields=rule))
    run(org.oob("metric_rule", "create", fields=rule))
    result, plan = run(export_and_plan(org, tmp_path / "out"))
    assert [s.split(":")[0] for s in result.skipped] == ["metric_alert/Transactions below"]
    assert not plan.has_changes
    assert load_manifests(tmp_path / "out").of_kind("metric_alert") == []


def test_write_tree_replaces_its_own_files_and_refuses_foreign_directories(tmp_path):
    target = tmp_path / "out"
    write_tree({"dexter.yaml": "a\n", "x/y.yaml": "b\n"}, target)
    write_tree({"dexter.yaml": "c\n"}, target)  # files of the earlier export are removed
    assert sorted(p.name for p in target.rglob("*")) == [".dexter-export.json", "dexter.yaml"]
    assert (target / "dexter.yaml").read_text() == "c\n"
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(Exception) as refused:
        write_tree({"dexter.yaml": "x"}, foreign)
    assert getattr(refused.value, "code", None) == "export-target"
    assert (foreign / "notes.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
