"""Metric alert rules (REFERENCE.md §1): org list/create, detail/update/delete, the
project-scoped twin and the Slack task endpoint."""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    actor_of,
    json_response,
    not_found,
    object_of,
    org_of,
    project_of,
    read_object,
    store_of,
)
from ..pagination import offset_page
from ..store import Store, now_iso
from ..validation.fields import convert_keys
from ..validation.metric_rules import resolution_for, resolve_slack, validate_rule
from ..views import context_of, list_response
from .tasks import COMPLETERS, poll_task, start_task

KIND = "metric_rule"


def display_aggregate(aggregate: str) -> str:
    """Stored aggregates are shown translated back (REFERENCE.md §1.5)."""
    return aggregate.replace("tags[sentry:user]", "user")


def serialize(store: Store, org: dict[str, Any], rule: dict[str, Any], *,
              detail: bool = False, translate: bool = True) -> dict[str, Any]:
    delta = rule.get("comparisonDelta")
    above = rule["thresholdType"] != 1

    def back(value: Any) -> float | None:  # percent rules store 100 ± x (REFERENCE.md §1.3)
        if value is None or not delta or not translate:
            return None if value is None else float(value)
        return float(value) - 100 if above else 100 - float(value)

    resolve = back(rule.get("resolveThreshold"))
    triggers = []
    for trig in sorted(rule["triggers"], key=lambda t: t["label"]):
        triggers.append({
            "id": str(trig["id"]), "alertRuleId": str(rule["id"]), "label": trig["label"],
            "thresholdType": rule["thresholdType"], "alertThreshold": back(trig["alertThreshold"]),
            "resolveThreshold": resolve, "dateCreated": trig["dateCreated"],
            "actions": [_action(trig, a) for a in sorted(trig["actions"], key=lambda a: a["id"])]})
    known = {p["id"]: p["slug"] for p in store.snapshot("project", org["id"])}
    slugs = sorted(known[pid] for pid in rule["projects"] if pid in known)
    body = {
        "id": str(rule["id"]), "name": rule["name"], "organizationId": str(org["id"]),
        "status": 0, "queryType": rule["queryType"], "dataset": rule["dataset"],
        "query": rule["query"], "aggregate": display_aggregate(rule["aggregate"]),
        "thresholdType": rule["thresholdType"], "resolveThreshold": resolve,
        "timeWindow": float(rule["timeWindow"]),
        "resolution": float(resolution_for(rule["timeWindow"], delta, rule["detectionType"])),
        "thresholdPeriod": rule["thresholdPeriod"], "environment": rule["environment"],
        "triggers": triggers, "projects": slugs, "owner": rule["owner"],
        "originalAlertRuleId": None,
        "comparisonDelta": float(delta) if delta else None,
        "dateModified": rule["dateModified"], "dateCreated": rule["dateCreated"],
        "createdBy": rule["createdBy"], "description": rule.get("description") or "",
        "sensitivity": rule["sensitivity"], "seasonality": rule["seasonality"],
        "detectionType": rule["detectionType"]}
    if detail:
        body["eventTypes"] = sorted(rule.get("eventTypes", []))
        body["snooze"] = False
    return body


def _action(trig: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    ident = action["targetIdentifier"]
    if action["type"] in ("pagerduty", "sentry_app") and str(ident).isdigit():
        ident = int(ident)
    desc = {"email": f"Send an email to {ident}", "slack": f"Send a Slack notification to {ident}",
            }.get(action["type"], f"Send a notification via {action['type']}")
    out = {"id": str(action["id"]), "alertRuleTriggerId": str(trig["id"]),
           "type": action["type"], "targetType": action["targetType"],
           "targetIdentifier": ident, "inputChannelId": action["inputChannelId"],
           "integrationId": action["integrationId"], "sentryAppId": action["sentryAppId"],
           "dateCreated": action["dateCreated"], "desc": desc, "priority": action["priority"]}
    return out


def _assign_ids(store: Store, rule: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Triggers/actions with a known id are updated in place; the rest get new ids."""
    old_trigs = {t["id"]: t for t in (old or {}).get("triggers", [])}
    for trig in rule["triggers"]:
        prev = old_trigs.get(_int(trig.get("id")))
        trig["id"] = prev["id"] if prev else store.next_id("trigger")
        trig["dateCreated"] = prev["dateCreated"] if prev else now_iso()
        old_actions = {a["id"]: a for a in (prev or {}).get("actions", [])}
        for action in trig["actions"]:
            pa = old_actions.get(_int(action.get("id")))
            action["id"] = pa["id"] if pa else store.next_id("action")
            action["dateCreated"] = pa["dateCreated"] if pa else now_iso()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _translate(rule: dict[str, Any]) -> None:
    if not rule.get("comparisonDelta"):
        return
    sign = 1 if rule["thresholdType"] != 1 else -1
    for trig in rule["triggers"]:
        trig["alertThreshold"] = 100 + sign * trig["alertThreshold"]
    if rule.get("resolveThreshold") is not None:
        rule["resolveThreshold"] = 100 + sign * rule["resolveThreshold"]


def _untranslated(rule: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored rule with percent thresholds as the client sent them."""
    copy = json.loads(json.dumps(rule))
    if copy.get("comparisonDelta") and copy.get("resolveThreshold") is not None:
        sign = 1 if copy["thresholdType"] != 1 else -1
        copy["resolveThreshold"] = (copy["resolveThreshold"] - 100) * sign
    return cast("dict[str, Any]", copy)


def save_rule(store: Store, org: dict[str, Any], rule: dict[str, Any], old: dict[str, Any] | None, actor: dict[str, Any],
              *, actor_label: str = "api") -> dict[str, Any]:
    """Store a validated rule (create when `old` is None); records the audit entry."""
    _translate(rule)
    _assign_ids(store, rule, old)
    rule["dateModified"] = now_iso()
    scope = str(rule["projects"][0]) if rule["projects"] else ""
    with store.transaction():
        if old is None:
            rule["dateCreated"] = rule["dateModified"]
            rule["createdBy"] = {"id": actor["id"], "name": actor["name"], "email": actor["email"]}
            rule.pop("id", None)
            store.insert(KIND, org["id"], rule, scope=scope)
            event = "alertrule.add"
        else:
            rule["id"] = old["id"]
            store.delete(KIND, old["id"])
            store.insert(KIND, org["id"], rule, scope=scope)
            event = "alertrule.edit"
        store.audit(org["id"], actor=actor, event=event, target=rule["id"],
                    data={"name": rule["name"], "id": rule["id"]})
    return rule


async def _write(request: Request, org: dict[str, Any], old: dict[str, Any] | None, project: dict[str, Any] | None
                 ) -> Response:
    store = store_of(request)
    body = convert_keys(await read_object(request, limit=request.app.state.config.max_body_bytes))
    base = _untranslated(old) if old is not None else None
    rule, lookups = validate_rule(store, org, body, partial_of=base, forced_project=project)
    quirks = request.app.state.config.quirks
    pending = [lk for lk in lookups if not lk["channel_id"]]
    if pending and quirks.slack_async:
        target = rule["projects"][0] if rule["projects"] else None
        uuid = start_task(store, org, kind="metric", project_id=target,
                          op="create" if old is None else "update",
                          payload={"rule": rule, "lookups": lookups,
                                   "oldId": old["id"] if old else None,
                                   "actor": actor_of(request)})
        return json_response({"uuid": uuid}, 202)
    for lookup in lookups:
        resolve_slack(store, org, lookup)
    saved = save_rule(store, org, rule, old, actor_of(request))
    return json_response(serialize(store, org, saved, translate=quirks.translate_thresholds),
                         201 if old is None else 200)


def complete_task(store: Store, org: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    payload = task["payload"]
    rule = payload["rule"]
    for trig in rule["triggers"]:  # the JSON round trip lost the lookups' references
        for action in trig["actions"]:
            if action["type"] == "slack" and action.get("inputChannelId") is None:
                resolve_slack(store, org, {"action": action, "channel_id": None})
    old = store.get(KIND, payload["oldId"]) if payload["oldId"] else None
    return save_rule(store, org, rule, old, payload["actor"])


COMPLETERS["metric"] = complete_task


def _rule_of(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    return object_of(request, org, KIND, "rule_id")


async def rule_list(request: Request, project: dict[str, Any] | None = None) -> Response:
    org, store = org_of(request), store_of(request)
    scopes: list[str] | str | None = None
    wanted = request.query_params.getlist("project")
    if project is not None:
        scopes = str(project["id"])
    elif wanted and "-1" not in wanted:
        scopes = wanted
    ids = store.ids(KIND, org["id"], scope=scopes)
    env = request.query_params.get("environment")
    if env:
        ids = [rule["id"] for rule in map(json.loads, store.raw_by_ids(KIND, ids))
               if rule["environment"] == env]
    page = offset_page(request, lambda off, lim: ids[off:off + lim], default=25, hits=len(ids))
    page.headers["X-Sentry-Alert-Rule-Hits"] = str(len(ids))
    page.headers["X-Sentry-Rule-Limit"] = "1000"
    views = request.app.state.views
    translate = request.app.state.config.quirks.translate_thresholds
    return list_response(views.page(store, KIND, page.items, context_of(request, "project", "org"),
                                    lambda r: serialize(store, org, r, translate=translate)),
                         page.headers)


async def rule_index(request: Request) -> Response:
    if request.method == "GET":
        return await rule_list(request)
    return await _write(request, org_of(request), None, None)


async def project_rule_index(request: Request) -> Response:
    org = org_of(request)
    project = project_of(request, org)
    if request.method == "GET":
        return await rule_list(request, project)
    return await _write(request, org, None, project)


async def rule_detail(request: Request) -> Response:
    org = org_of(request)
    if "project" in request.path_params:
        project_of(request, org)
    rule, store = _rule_of(request, org), store_of(request)
    if request.method == "GET":
        return json_response(serialize(store, org, rule, detail=True,
                                       translate=request.app.state.config.quirks.translate_thresholds))
    if request.method == "PUT":
        return await _write(request, org, rule, None)
    with store.transaction():
        store.delete(KIND, rule["id"])
        store.audit(org["id"], actor=actor_of(request), event="alertrule.remove",
                    target=rule["id"], data={"name": rule["name"], "id": rule["id"]})
    return json_response(None, 202)


async def rule_task(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    task = poll_task(store, org, request.path_params["task_uuid"], "metric", project["id"],
                     request.app.state.config.quirks)
    if task is None:
        raise not_found()
    rule = store.get(KIND, task["ruleId"]) if task["ruleId"] else None
    return json_response({"status": task["status"],
                          "alertRule": serialize(
                              store, org, rule,
                              translate=request.app.state.config.quirks.translate_thresholds)
                          if rule else None,
                          "error": task["error"]})


ROUTES = [
    ("/organizations/{org}/alert-rules/", ["GET", "POST"], rule_index),
    ("/organizations/{org}/alert-rules/{rule_id}/", ["GET", "PUT", "DELETE"], rule_detail),
    ("/projects/{org}/{project}/alert-rules/", ["GET", "POST"], project_rule_index),
    ("/projects/{org}/{project}/alert-rules/{rule_id}/", ["GET", "PUT", "DELETE"],
     rule_detail),
    ("/projects/{org}/{project}/alert-rule-task/{task_uuid}/", ["GET"], rule_task),
]
