"""Checks for the traps of REFERENCE.md §14 that a round trip through dexter's own
normalization would hide (it is built to make them compare equal): each writes one object
by hand, reads it back, and says which documented habit Sentry no longer has."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from ..core.requests import ApiRequest, path_segment
from .contract import ContractContext, delete_quietly, email_action, issue_rule
from .results import CheckFailed


def _metric_rule(ctx: ContractContext, suffix: str, **fields: Any) -> dict[str, Any]:
    return {"name": ctx.name(suffix), "aggregate": "count()", "query": "", "dataset": "events",
            "timeWindow": 5, "thresholdType": 0, "projects": [ctx.project()],
            "triggers": [{"label": "critical", "alertThreshold": 100,
                          "actions": [email_action(ctx)]}], **fields}


async def _with_metric_rule(ctx: ContractContext, suffix: str, fields: dict[str, Any]
                            ) -> tuple[ApiRequest, dict[str, Any], list[Any], dict[str, Any]]:
    """POST a rule; (request, POST answer, list items, detail), the rule deleted after."""
    path = f"organizations/{ctx.org}/alert-rules/"
    request = ApiRequest("POST", path, json=_metric_rule(ctx, suffix, **fields))
    answer = (await ctx.send(request)).body
    if not isinstance(answer, dict) or answer.get("id") is None:
        raise CheckFailed(f"request: {request.route}; no rule in the answer: {answer!r:.200}")
    rule_path = f"{path}{path_segment(answer['id'])}/"
    try:
        listing = (await ctx.send(ApiRequest("GET", path, params={"per_page": 100}))).body
        detail = (await ctx.send(ApiRequest("GET", rule_path))).body
    finally:
        await delete_quietly(ctx, rule_path)
    return request, answer, listing if isinstance(listing, list) else [], \
        detail if isinstance(detail, dict) else {}


async def aggregate_display(ctx: ContractContext) -> str:
    """§14.4: `count_unique(tags[sentry:user])` is shown as `count_unique(user)`."""
    sent = "count_unique(tags[sentry:user])"
    request, answer, _, detail = await _with_metric_rule(ctx, "aggregate", {"aggregate": sent})
    got = (answer.get("aggregate"), detail.get("aggregate"))
    if got != ("count_unique(user)", "count_unique(user)"):
        raise CheckFailed(f"request: {request.route} with aggregate {sent!r}; expected "
                          f"'count_unique(user)' in the answer and the detail, got {got} "
                          "(REFERENCE.md §14.4)")
    return f"{request.route}: {sent} reads back as count_unique(user)"


async def event_types_detail_only(ctx: ContractContext) -> str:
    """§1.5 / §14.3: `eventTypes` is in the detail GET only, not in list items."""
    request, answer, listing, detail = await _with_metric_rule(
        ctx, "event-types", {"eventTypes": ["error"]})
    item = next((i for i in listing if isinstance(i, dict) and i.get("id") == answer["id"]), None)
    if item is None:
        raise CheckFailed(f"request: GET /api/0/{request.path}; the new rule is not listed")
    if "eventTypes" in item or detail.get("eventTypes") != ["error"]:
        raise CheckFailed(f"request: {request.route} with eventTypes ['error']; expected no "
                          f"eventTypes in the list item and ['error'] in the detail, got "
                          f"{item.get('eventTypes', '(absent)')!r} and "
                          f"{detail.get('eventTypes', '(absent)')!r} (REFERENCE.md §1.5)")
    return "eventTypes only in the detail GET"


async def issue_rule_read_forms(ctx: ContractContext) -> str:
    """§14.5: nodes come back with a rendered `name`, actions with a `uuid`."""
    path = f"projects/{ctx.org}/{path_segment(ctx.project())}/rules/"
    request = ApiRequest("POST", path, json=issue_rule(ctx, ctx.name("read-forms")))
    answer = (await ctx.send(request)).body
    if not isinstance(answer, dict) or answer.get("id") is None:
        raise CheckFailed(f"request: {request.route}; no rule in the answer: {answer!r:.200}")
    rule_path = f"{path}{path_segment(answer['id'])}/"
    try:
        detail = (await ctx.send(ApiRequest("GET", rule_path))).body
    finally:
        await delete_quietly(ctx, rule_path)
    nodes = [n for key in ("conditions", "filters", "actions")
             for n in (detail.get(key) or [] if isinstance(detail, dict) else [])]
    unnamed = [n.get("id") for n in nodes if not isinstance(n.get("name"), str)]
    actions = detail.get("actions") or [] if isinstance(detail, dict) else []
    bad_uuid = [a.get("uuid") for a in actions if not _is_uuid(a.get("uuid"))]
    if not nodes or unnamed or bad_uuid:
        raise CheckFailed(f"request: GET /api/0/{rule_path}; expected every node with a `name` "
                          f"and every action with a `uuid`; without a name: {unnamed}, bad "
                          f"uuids: {bad_uuid} (REFERENCE.md §2.3, §14.5)")
    return f"GET /api/0/{rule_path}: {len(nodes)} nodes named, {len(actions)} action uuid(s)"


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
    except ValueError:
        return False
    return value is not None
