"""Sentry's move from legacy alert rules to workflows, as switches of the emulator
(REFERENCE-workflows.md §4.1): `migrated` turns every legacy rule into its workflow
(and, for metric rules, its `metric_issue` detector) with the `alertRuleId`/`ruleId`
back-references and mapping rows; `legacy_retired` makes the legacy rule endpoints answer
410 `{"message": "This API no longer exists."}`.

`PUT /__emulator__/alerting {"migrated": true}` migrates the rules not migrated yet (a rule
migrates once; a later PUT migrates only rules created since).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, read_object, store_of
from ..config import settings_dict, update_settings
from ..routing import Handler, RouteSpec
from ..seeding import find_org
from ..store import Store, now_iso
from . import detectors, workflows

RETIRED = {"message": "This API no longer exists."}
_RULES = "sentry.rules."
# legacy issue-rule node id (last dotted part) -> workflow condition or action type
TRIGGERS = {"FirstSeenEventCondition": "first_seen_event",
            "RegressionEventCondition": "regression_event",
            "ReappearedEventCondition": "reappeared_event",
            "NewHighPriorityIssueCondition": "new_high_priority_issue",
            "ExistingHighPriorityIssueCondition": "existing_high_priority_issue",
            "EveryEventCondition": "every_event"}
ACTIONS = {"NotifyEmailAction": "email", "SlackNotifyServiceAction": "slack",
           "PagerDutyNotifyServiceAction": "pagerduty", "OpsgenieNotifyTeamAction": "opsgenie",
           "MsTeamsNotifyServiceAction": "msteams", "DiscordNotifyServiceAction": "discord",
           "JiraCreateTicketAction": "jira", "GitHubCreateTicketAction": "github",
           "NotifyEventServiceAction": "webhook", "NotifyEventSentryAppAction": "sentry_app",
           "NotifyEventAction": "plugin"}

Record = dict[str, Any]
"""A stored record or a JSON object."""


def retirable(routes: Sequence[tuple[str, list[str], Handler]]) -> list[RouteSpec]:
    """The legacy rule routes, answering 410 once the `legacy_retired` switch is on."""
    def guard(handler: Handler) -> Handler:
        async def retired_or(request: Request) -> Response:
            if request.app.state.config.alerting.legacy_retired:
                raise ApiError(410, RETIRED)
            return await handler(request)

        retired_or.__name__ = getattr(handler, "__name__", "handler")
        return retired_or

    return [(path, methods, guard(handler)) for path, methods, handler in routes]


def _last(node_id: str) -> str:
    return node_id.rsplit(".", 1)[-1]


def _issue_action(node: Record) -> Record:
    kind = ACTIONS.get(_last(node["id"]), "plugin")
    integration = node.get("workspace") or node.get("account") or node.get("team") \
        or node.get("server") or node.get("integration")
    config: dict[str, Any] = {"target_type": "specific",
                              "target_identifier": node.get("channel_id") or node.get("service"),
                              "target_display": node.get("channel")}
    if kind == "email":
        target = str(node.get("targetType") or "IssueOwners")
        config = {"target_type": {"Team": "team", "Member": "user"}.get(target, "issue_owners"),
                  "target_identifier": None if target == "IssueOwners"
                  else str(node.get("targetIdentifier")), "target_display": None}
    elif kind in ("webhook", "plugin", "sentry_app"):
        config = {"target_type": "sentry_app" if kind == "sentry_app" else "specific",
                  "target_identifier": node.get("service")
                  or node.get("sentryAppInstallationUuid"), "target_display": None}
    return {"id": 0, "type": kind, "config": config, "data": {},
            "integration_id": int(str(integration)) if str(integration or "").isdigit()
            else None}


def _mint(store: Store, group: Record) -> Record:
    group["id"] = store.next_id("dcg")
    for item in group["conditions"]:
        item["id"] = store.next_id("data_condition")
    for item in group["actions"]:
        item["id"] = store.next_id("wf_action")
    return group


def _workflow(store: Store, org: Record, name: str, frequency: int, environment: str | None,
              triggers: list[Record], logic: str, actions: list[Record]) -> Record:
    record = {"name": name, "enabled": True, "config": {"frequency": frequency},
              "environment": environment, "owner": None, "lastTriggered": None,
              "triggers": _mint(store, {"logic_type": logic, "conditions": triggers,
                                        "actions": []}),
              "actionFilters": [_mint(store, {"logic_type": "all", "conditions": [],
                                              "actions": actions})]}
    return workflows.save(store, org, record, None, None)


def migrate_issue_rule(store: Store, org: Record, rule: Record) -> None:
    triggers = [{"type": TRIGGERS[_last(n["id"])], "comparison": True, "condition_result": True}
                for n in rule["conditions"] if _last(n["id"]) in TRIGGERS]
    logic = "any-short" if rule.get("actionMatch") in (None, "any") else "all"
    workflow = _workflow(store, org, rule["name"], int(rule.get("frequency") or 30),
                         rule.get("environment"), triggers, logic,
                         [_issue_action(n) for n in rule["actions"]])
    error = detectors.system_detector(store, org, rule["projectId"], "error")
    detectors.set_links(store, org, workflow=workflow["id"], others=[error["id"]])
    store.insert("alert_rule_workflow", org["id"], {"ruleId": rule["id"], "alertRuleId": None,
                                                    "workflowId": workflow["id"]})


def migrate_metric_rule(store: Store, org: Record, rule: Record) -> None:
    above = rule["thresholdType"] != 1
    conditions = [{"id": 0, "type": "gt" if above else "lt",
                   "comparison": trig["alertThreshold"],
                   "condition_result": 75 if trig["label"] == "critical" else 50}
                  for trig in rule["triggers"]]
    critical = next(t["alertThreshold"] for t in rule["triggers"] if t["label"] == "critical")
    resolve = rule.get("resolveThreshold")
    conditions.append({"id": 0, "type": "lte" if above else "gte",
                       "comparison": critical if resolve is None else resolve,
                       "condition_result": 0})
    project_id = rule["projects"][0]
    record = detectors.save(store, org, {
        "name": rule["name"], "type": "metric_issue", "projectId": project_id,
        "description": rule.get("description") or None, "owner": rule.get("owner"),
        "enabled": True, "alertRuleId": rule["id"], "ruleId": None,
        "config": {"detection_type": rule.get("detectionType") or "static",
                   "comparison_delta": rule.get("comparisonDelta")},
        "dataSource": {"id": store.next_id("data_source"), "type": "snuba_query_subscription",
                       "sourceId": store.next_id("data_source_object"), "query": {
                           "aggregate": rule["aggregate"], "dataset": rule["dataset"],
                           "query": rule["query"], "time_window": int(rule["timeWindow"]) * 60,
                           "environment": rule.get("environment"),
                           "event_types": rule.get("eventTypes") or ["error", "default"],
                           "extrapolation_mode": "unknown"}},
        "conditionGroup": _mint(store, {"logic_type": "any", "conditions": conditions,
                                        "actions": []})}, None)
    actions = [{"id": 0, "type": a["type"], "data": {},
                "integration_id": a.get("integrationId"),
                "config": {"target_type": a["targetType"],
                           "target_identifier": a.get("inputChannelId")
                           or a.get("targetIdentifier"), "target_display": None}}
               for trig in rule["triggers"] for a in trig["actions"]]
    workflow = _workflow(store, org, rule["name"], 0, rule.get("environment"), [], "any-short",
                         actions)
    detectors.set_links(store, org, workflow=workflow["id"], others=[record["id"]])
    store.insert("alert_rule_workflow", org["id"], {"ruleId": None, "alertRuleId": rule["id"],
                                                    "workflowId": workflow["id"]})
    store.insert("alert_rule_detector", org["id"], {"ruleId": None, "alertRuleId": rule["id"],
                                                    "detectorId": record["id"]})


def migrate_all(store: Store, org: Record) -> int:
    """Migrate every legacy rule without a mapping row; returns how many were migrated."""
    done_issue = {r["ruleId"] for r in store.query("alert_rule_workflow", org["id"])}
    done_metric = {r["alertRuleId"] for r in store.query("alert_rule_workflow", org["id"])}
    count = 0
    with store.transaction():
        detectors.ensure_system_detectors(store, org)
        for rule in store.query("issue_rule", org["id"]):
            if rule["id"] not in done_issue:
                migrate_issue_rule(store, org, rule)
                count += 1
        for rule in store.query("metric_rule", org["id"]):
            if rule["id"] not in done_metric:
                migrate_metric_rule(store, org, rule)
                count += 1
    return count


async def alerting(request: Request) -> Response:
    """GET/PUT the alerting switches; turning `migrated` on migrates the legacy rules."""
    settings = request.app.state.config.alerting
    migrated = 0
    if request.method == "PUT":
        try:
            unknown = update_settings(settings, await read_object(request))
        except ValueError as exc:
            raise ApiError(400, {"detail": str(exc)}) from None
        if unknown:
            raise ApiError(400, {"detail": f"unknown settings: {', '.join(unknown)}"})
        if settings.migrated:
            store = store_of(request)
            org = find_org(store, request.app.state.config.organization)
            if org is not None:
                migrated = migrate_all(store, org)
                request.app.state.views.clear()
    return json_response({**settings_dict(settings), "rulesMigrated": migrated,
                          "at": now_iso()})


ADMIN_ROUTES = [("/alerting/", ["GET", "PUT"], alerting)]
