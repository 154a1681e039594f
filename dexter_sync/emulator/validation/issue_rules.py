"""Issue alert rule validation (REFERENCE.md §2.1): the body becomes the stored record
(conditions and filters kept in one list, nodes form-cleaned, actions given a uuid)."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any

from ..api import ApiError
from ..config import QuirkSettings
from ..seeding import find_by
from ..store import Store
from .fields import REQUIRED, Errors, choice, integer, string
from .issue_nodes import EMAIL, SLACK, clean_node, node_type

MATCH = ["all", "any", "none"]


def validate_rule(store: Store, org: dict[str, Any], project: dict[str, Any], body: dict[str, Any],
                  quirks: QuirkSettings
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored record and the Slack actions whose channel needs a lookup."""
    errors = Errors()
    for key in ("name", "actionMatch", "actions", "frequency", "conditions"):
        if key not in body or body[key] is None:
            errors.add(key, REQUIRED)
    rec: dict[str, Any] = {}
    rec["name"] = string(errors, "name", body.get("name"), max_length=256) \
        if "name" in body else None
    rec["actionMatch"] = choice(errors, "actionMatch", body.get("actionMatch"), MATCH) \
        if body.get("actionMatch") is not None else None
    if body.get("frequency") is not None:
        rec["frequency"] = integer(errors, "frequency", body["frequency"], low=5, high=43200)
    filters = body.get("filters") or []
    fm = body.get("filterMatch")
    if fm is not None:
        fm = choice(errors, "filterMatch", fm, MATCH)
    elif filters:
        errors.add("filterMatch", "Must select a filter match (all, any, none) if filters are "
                   "supplied.")
    rec["filterMatch"] = fm
    env = body.get("environment")
    if env is not None and not any(e["name"] == env
                                   for e in store.query("environment", org["id"])):
        errors.add("environment", "This environment has not been created.")
    rec["environment"] = env
    owner = body.get("owner")
    rec["owner"] = None
    if owner is not None:
        kind, _, ident = str(owner).partition(":")
        if (kind == "team" and find_by(store, "team", org, ident)) or (
                kind == "user" and store.find("member", org["id"], userId=_int(ident))):
            rec["owner"] = f"{kind}:{ident}"
        else:
            raise ApiError(400, "Could not resolve owner")
    nodes = []
    for field, allowed in (("conditions", ("condition", "filter")), ("filters", ("filter",))):
        raw = body.get(field) or []
        nodes += _nodes(errors, field, raw, allowed, quirks)
    actions = _nodes(errors, "actions", body.get("actions") or [], ("action",), quirks)
    if "actions" in body and not body.get("actions") and "actions" not in errors.items:
        errors.add("actions", "You must add an action for this alert to fire.")
    errors.raise_if_any()
    slack: list[Any] = []
    for action in actions:
        _check_action(store, org, action, errors, slack)
        sent = action.get("uuid")
        action["uuid"] = sent if _valid_uuid(sent) else str(uuidlib.uuid4())
    errors.raise_if_any()
    rec["conditions"], rec["actions"] = nodes, actions
    return rec, slack


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _valid_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
        return bool(value)
    except ValueError:
        return False


def _nodes(errors: Errors, field: str, raw: Any, allowed: tuple[str, ...], quirks: QuirkSettings) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        errors.add(field, f'Expected a list of items but got type "{type(raw).__name__}".')
        return []
    out = []
    for node in raw:
        if not isinstance(node, dict) or "id" not in node:
            errors.add(field, "Invalid node. Could not find 'None'" if isinstance(node, dict)
                       else "Invalid data. Expected a dictionary.")
            continue
        if node_type(str(node["id"])) not in allowed:
            errors.add(field, f"Invalid node. Could not find '{node['id']}'")
            continue
        cleaned, problems = clean_node(node, quirks)
        for problem in problems:
            errors.add(field, problem)
        out.append(cleaned)
    return out


def _check_action(store: Store, org: dict[str, Any], action: dict[str, Any], errors: Errors, slack: list[Any]) -> None:
    if action["id"] == SLACK:
        integ = find_by(store, "integration", org, action.get("workspace") or "")
        if integ is None or integ["provider"] != "slack":
            errors.add("actions", "Slack workspace is a required field.")
            return
        channel = str(action.get("channel", "")).strip()
        prefix = "@" if channel.startswith("@") else "#"
        action["channel"] = prefix + channel.lstrip("#@")
        slack.append({"action": action, "integration": integ,
                      "channel_id": action.get("channel_id") or action.get("input_channel_id")})
        action.pop("input_channel_id", None)
    elif action["id"] == EMAIL:
        target, ident = action.get("targetType"), str(action.get("targetIdentifier") or "")
        if target == "Team" and find_by(store, "team", org, ident) is None:
            errors.add("actions", "This team is not part of the project.")
        if target == "Member" and not store.find("member", org["id"], userId=_int(ident)):
            errors.add("actions", "This user is not part of the project.")
    else:
        for key in ("account", "team", "server", "integration"):
            if key in action and action["id"].startswith("sentry.integrations."):
                if find_by(store, "integration", org, action[key]) is None:
                    errors.add("actions", "Integration does not exist.")
                break


def resolve_slack(store: Store, org: dict[str, Any], lookup: dict[str, Any]) -> None:
    """The Slack channel lookup, against the seeded channels of the workspace."""
    action, integ = lookup["action"], lookup["integration"]
    name = action["channel"].lstrip("#@")
    channels = store.find("slack_channel", org["id"], integrationId=integ["id"])
    match = next((c for c in channels if c["name"] == name), None)
    if lookup["channel_id"] and (match is None or match["channelId"] != lookup["channel_id"]):
        raise ApiError(400, {"actions": [
            'Slack: Slack channel name from ID does not match input channel name.']})
    if match is None:
        raise ApiError(400, {"actions": [
            (f'The slack resource "{name}" does not exist or has not been granted access in '
            f'the {integ["name"]} Slack workspace.')]})
    action["channel_id"] = match["channelId"]


def duplicate_of(store: Store, project: dict[str, Any], rule: dict[str, Any], *, exclude: int | None) -> dict[str, Any] | None:
    """An active rule of the project that this one exactly duplicates (any name)."""
    def comparable(r: dict[str, Any]) -> dict[str, Any]:
        env = r.get("environment")
        return {"environment": env, "actionMatch": r.get("actionMatch"),
                "filterMatch": r.get("filterMatch"), "frequency": r.get("frequency"),
                "conditions": r.get("conditions"),
                "actions": [{k: v for k, v in a.items() if k not in ("uuid", "channel_id")}
                            for a in r["actions"]]}

    mine = comparable(rule)
    for other in store.query("issue_rule", scope=str(project["id"])):
        if other["id"] == exclude:
            continue
        theirs = comparable(other)
        if all(mine[k] == theirs[k] for k in mine if mine[k] not in (None, "", [])
               and theirs[k] not in (None, "", [])) and mine["actions"] == theirs["actions"]:
            return other
    return None
