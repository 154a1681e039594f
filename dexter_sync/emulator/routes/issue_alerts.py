"""Issue alert rules (REFERENCE.md §2): project list/create, detail/update/delete and the
Slack rule-task endpoint."""

from __future__ import annotations

import bisect
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    actor_of,
    json_response,
    not_found,
    org_of,
    project_of,
    read_object,
    store_of,
)
from ..config import EmulatorConfig, QuirkSettings
from ..pagination import id_page
from ..seeding import find_by
from ..store import Store, now_iso
from ..validation.issue_nodes import label, node_type
from ..validation.issue_rules import duplicate_of, resolve_slack, validate_rule
from ..views import context_of, list_response
from .tasks import COMPLETERS, poll_task, start_task

KIND = "issue_rule"


def serialize(store: Store, rule: dict[str, Any], quirks: QuirkSettings, org_id: int | None = None) -> dict[str, Any]:
    def render(node: dict[str, Any]) -> dict[str, Any]:
        out = dict(node)
        if quirks.node_names:
            out["name"] = label(node)
        return out

    def order(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(nodes, key=lambda n: n["id"]) if quirks.reorder_nodes else nodes

    conditions = [n for n in rule["conditions"] if node_type(n["id"]) == "condition"]
    filters = [n for n in rule["conditions"] if node_type(n["id"]) == "filter"]
    project = next((p for p in store.snapshot("project", org_id)
                    if p["id"] == rule["projectId"]), None) if org_id else \
        store.get("project", rule["projectId"])
    defaults = quirks.fill_defaults
    return {
        "id": str(rule["id"]), "name": rule["name"],
        "conditions": [render(n) for n in order(conditions)],
        "filters": [render(n) for n in order(filters)],
        "actions": [render(n) for n in order(rule["actions"])],
        "actionMatch": rule.get("actionMatch") or ("all" if defaults else None),
        "filterMatch": rule.get("filterMatch") or ("all" if defaults else None),
        "frequency": rule.get("frequency") or (30 if defaults else None),
        "environment": rule.get("environment"), "owner": rule.get("owner"),
        "createdBy": rule["createdBy"], "dateCreated": rule["dateCreated"],
        "projects": [project["slug"]] if project else [], "status": "active",
        "snooze": False}


def refuse_duplicate(store: Store, project: dict[str, Any], rule: dict[str, Any], *, exclude: int | None) -> None:
    """Sentry's exact-duplicate check (REFERENCE.md §2.1): 400 naming the other rule."""
    dup = duplicate_of(store, project, rule, exclude=exclude)
    if dup is not None:
        raise ApiError(400, {"name": [(f"This rule is an exact duplicate of '{dup['name']}' in "
                                      "this project and may not be created.")],
                             "ruleId": [dup["id"]]})


def save_rule(store: Store, org: dict[str, Any], project: dict[str, Any], rule: dict[str, Any], old: dict[str, Any] | None,
              actor: dict[str, Any]) -> dict[str, Any]:
    refuse_duplicate(store, project, rule, exclude=old["id"] if old else None)
    rule["projectId"] = project["id"]
    with store.transaction():
        if old is None:
            rule["dateCreated"] = now_iso()
            rule["createdBy"] = {"id": actor["id"], "name": actor["name"],
                                 "email": actor["email"]}
            store.insert(KIND, org["id"], rule, scope=str(project["id"]))
            event = "rule.add"
        else:
            rule.update(id=old["id"], dateCreated=old["dateCreated"], createdBy=old["createdBy"])
            store.put(KIND, rule)
            event = "rule.edit"
        store.audit(org["id"], actor=actor, event=event, target=rule["id"],
                    data={"label": rule["name"], "id": rule["id"], "project": project["slug"]})
    return rule


SLOW = {"sentry.rules.conditions.event_frequency." + name for name in (
    "EventFrequencyCondition", "EventUniqueUserFrequencyCondition",
    "EventFrequencyPercentCondition")}


def _check_caps(store: Store, project: dict[str, Any], rule: dict[str, Any], config: EmulatorConfig) -> None:
    """Creating beyond the per-project cap of this rule's condition type is refused."""
    def slow(r: dict[str, Any]) -> bool:
        return any(node["id"] in SLOW for node in r["conditions"])

    cap = config.max_slow_issue_rules if slow(rule) else config.max_fast_issue_rules
    if cap <= 0:
        return
    same = sum(1 for r in store.query(KIND, scope=str(project["id"])) if slow(r) == slow(rule))
    if same >= cap:
        raise ApiError(400, {"conditions": [
            f"You may not exceed {cap} rules with this type of condition per project."]})


async def _write(request: Request, org: dict[str, Any], project: dict[str, Any], old: dict[str, Any] | None) -> Response:
    store, config = store_of(request), request.app.state.config
    body = await read_object(request, limit=config.max_body_bytes)
    rule, lookups = validate_rule(store, org, project, body, config.quirks)
    if old is None:
        _check_caps(store, project, rule, config)
    if any(not lk["channel_id"] for lk in lookups) and config.quirks.slack_async:
        if old is None:  # the duplicate check runs before the task is queued
            refuse_duplicate(store, project, rule, exclude=None)
        uuid = start_task(store, org, kind="issue", project_id=project["id"],
                          op="create" if old is None else "update",
                          payload={"rule": rule, "oldId": old["id"] if old else None,
                                   "actor": actor_of(request)})
        return json_response({"uuid": uuid}, 202)
    for lookup in lookups:
        resolve_slack(store, org, lookup)
    saved = save_rule(store, org, project, rule, old, actor_of(request))
    return json_response(serialize(store, saved, config.quirks), 200)


def complete_task(store: Store, org: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    payload, project = task["payload"], store.get("project", task["projectId"])
    rule = payload["rule"]
    for action in rule["actions"]:
        if node_type(action["id"]) == "action" and "workspace" in action \
                and action["id"].endswith("SlackNotifyServiceAction"):
            integ = find_by(store, "integration", org, action["workspace"])
            if integ is None:
                raise ApiError(400, {"actions": ["Slack workspace is a required field."]})
            resolve_slack(store, org, {"action": action, "integration": integ,
                                       "channel_id": action.get("channel_id")})
    old = store.get(KIND, payload["oldId"]) if payload["oldId"] else None
    assert project is not None  # a task is started for an existing project
    return save_rule(store, org, project, rule, old, payload["actor"])


COMPLETERS["issue"] = complete_task


async def rule_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    if request.method == "POST":
        return await _write(request, org, project, None)
    ids = store.ids(KIND, org["id"], scope=str(project["id"]))  # highest first
    pairs = [(i, i) for i in ids]

    def fetch(max_id: int | None, offset: int, limit: int) -> list[tuple[int, int]]:
        start = 0 if max_id is None else bisect.bisect_left(ids, -max_id, key=lambda i: -i)
        return pairs[start + offset:start + offset + limit]

    page = id_page(request, fetch, default=100, fetch_all=lambda: pairs)
    quirks = request.app.state.config.quirks
    views = request.app.state.views
    return list_response(views.page(store, KIND, page.items, context_of(request, "project"),
                                    lambda r: serialize(store, r, quirks, org["id"])),
                         page.headers)


async def rule_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    rule = store.get(KIND, request.path_params["rule_id"], org=org["id"])
    if rule is None or rule["projectId"] != project["id"]:
        raise not_found()
    if request.method == "GET":
        return json_response(serialize(store, rule, request.app.state.config.quirks))
    if request.method == "PUT":
        return await _write(request, org, project, rule)
    with store.transaction():
        store.delete(KIND, rule["id"])
        store.audit(org["id"], actor=actor_of(request), event="rule.remove", target=rule["id"],
                    data={"label": rule["name"], "id": rule["id"], "project": project["slug"]})
    return json_response(None, 202)


async def rule_task(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    quirks = request.app.state.config.quirks
    task = poll_task(store, org, request.path_params["task_uuid"], "issue", project["id"],
                     quirks)
    if task is None:
        raise not_found()
    rule = store.get(KIND, task["ruleId"]) if task["ruleId"] else None
    return json_response({"status": task["status"],
                          "rule": serialize(store, rule, quirks) if rule else None,
                          "error": task["error"]})


ROUTES = [
    ("/projects/{org}/{project}/rules/", ["GET", "POST"], rule_index),
    ("/projects/{org}/{project}/rules/{rule_id}/", ["GET", "PUT", "DELETE"], rule_detail),
    ("/projects/{org}/{project}/rule-task/{task_uuid}/", ["GET"], rule_task),
]
