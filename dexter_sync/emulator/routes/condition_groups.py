"""Data condition groups of the workflow engine (REFERENCE-workflows.md §2.4-2.6, §3.3):
validation, the id-diff update Sentry applies to nested conditions, filters and actions,
and the camelCase response shapes. Shared by the workflow and detector routes.

Records are stored with snake_case keys inside `comparison`, `config` and `data` (what the
CamelSnakeSerializer leaves after converting the request); responses camelCase them again.
"""

from __future__ import annotations

from typing import Any

from ..api import ApiError
from ..store import Store
from ..validation.fields import snake_to_camel

LOGIC_TYPES = ("any", "any-short", "all", "none")
TRIGGER_TYPES = {
    "first_seen_event", "regression_event", "reappeared_event", "issue_resolved_trigger",
    "new_high_priority_issue", "existing_high_priority_issue", "seer_activity_trigger",
    "every_event", "event_seen_count", "event_created_by_detector", "issue_resolution_change",
}
FILTER_TYPES = {
    "age_comparison", "assigned_to", "issue_category", "issue_type", "issue_occurrences",
    "issue_priority_deescalating", "issue_priority_greater_or_equal", "issue_priority_equals",
    "event_frequency_count", "event_unique_user_frequency_count", "event_frequency_percent",
    "event_unique_user_frequency_percent", "percent_sessions_count", "percent_sessions_percent",
    "event_attribute", "tagged_event", "latest_release", "latest_adopted_release", "level",
    "issue_open_duration", "anomaly_detection",
}
OPERATOR_TYPES = {"eq", "gte", "gt", "lte", "lt", "ne"}
CONDITION_TYPES = TRIGGER_TYPES | FILTER_TYPES | OPERATOR_TYPES
ACTION_TYPES = ("slack", "msteams", "discord", "pagerduty", "opsgenie", "github",
                "github_enterprise", "jira", "jira_server", "vsts", "email", "sentry_app",
                "plugin", "webhook")
NO_INTEGRATION = {"email", "sentry_app", "plugin", "webhook"}
# comparison keys each dict-shaped condition must carry (the handler's JSON schema, abridged)
REQUIRED_KEYS = {
    "age_comparison": ("time", "value", "comparison_type"),
    "assigned_to": ("target_type",), "issue_category": ("value",),
    "issue_type": ("value",), "issue_occurrences": ("value",),
    "event_frequency_count": ("value", "interval"),
    "event_unique_user_frequency_count": ("value", "interval"),
    "event_frequency_percent": ("value", "interval", "comparison_interval"),
    "event_unique_user_frequency_percent": ("value", "interval", "comparison_interval"),
    "percent_sessions_count": ("value", "interval"),
    "percent_sessions_percent": ("value", "interval"),
    "event_attribute": ("attribute", "match"), "tagged_event": ("key", "match"),
    "latest_adopted_release": ("environment", "age_comparison", "release_age_type"),
    "level": ("level", "match"),
}

Record = dict[str, Any]
"""A stored record or a JSON object."""


def camel(value: Any) -> Any:
    """snake_case keys to camelCase, recursively (Sentry's convert_dict_key_case)."""
    if isinstance(value, dict):
        return {snake_to_camel(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def as_int(value: Any) -> int | None:
    """An id sent as int or numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _condition(data: Any, where: str, allowed: set[str]) -> Record:
    if not isinstance(data, dict):
        raise ApiError(400, {where: ["Expected a dictionary of items."]})
    kind = data.get("type")
    if kind not in allowed:
        raise ApiError(400, {where: [f"Unsupported type {kind}"]})
    if "comparison" not in data:
        raise ApiError(400, {where: {"comparison": ["This field is required."]}})
    comparison = data["comparison"]
    required = REQUIRED_KEYS.get(str(kind))
    if required is not None and (
            not isinstance(comparison, dict) or any(k not in comparison for k in required)):
        raise ApiError(400, {where: {"comparison": [
            f"Invalid comparison for {kind}: needs {', '.join(required)}"]}})
    result = data.get("condition_result", True)
    if isinstance(result, dict):
        raise ApiError(400, {where: ["Unsupported condition result"]})
    return {"type": kind, "comparison": comparison, "condition_result": result}


def _action(data: Any, where: str, store: Store, org: Record) -> Record:
    if not isinstance(data, dict):
        raise ApiError(400, {where: ["Expected a dictionary of items."]})
    kind = data.get("type")
    if kind not in ACTION_TYPES:
        raise ApiError(400, {where: [f"Invalid action type: {kind}"]})
    integration = data.get("integration_id")
    if kind not in NO_INTEGRATION:
        ident = as_int(integration)
        known = {i["id"] for i in store.snapshot("integration", org["id"])}
        if ident is None or ident not in known:
            raise ApiError(400, {where: {"integrationId": [
                "Integration is required" if integration is None
                else f"Integration {integration} does not exist"]}})
        integration = ident
    else:
        integration = None
    config = data.get("config") or {}
    if not isinstance(config, dict) or not isinstance(data.get("data", {}), dict):
        raise ApiError(400, {where: ["config and data must be objects"]})
    if kind == "email" and config.get("target_type") not in ("user", "team", "issue_owners"):
        raise ApiError(400, {where: {"config": ["targetType must be user, team or issue_owners"]}})
    return {"type": kind, "integration_id": integration, "config": config,
            "data": data.get("data") or {}}


def _merge(existing: list[Record], wanted: list[Any], where: str, mint: Any,
           build: Any) -> list[Record]:
    """Sentry's id diff (remove_items_by_api_input): items with an id update that item,
    items without one are created, stored items left out are deleted."""
    by_id = {item["id"]: item for item in existing}
    out = []
    for index, data in enumerate(wanted):
        built = build(data, f"{where}[{index}]")
        raw_id = data.get("id") if isinstance(data, dict) else None
        if raw_id is not None:
            ident = as_int(raw_id)
            if ident not in by_id:
                raise ApiError(400, {where: [f"Condition with id {raw_id} not found."]})
            out.append({**built, "id": ident})
        else:
            out.append({**built, "id": mint()})
    return out


def build_group(store: Store, org: Record, data: Any, where: str, *, allowed: set[str],
                existing: Record | None, with_actions: bool) -> Record:
    """A stored group from a request group (keys already snake_case), ids kept or minted."""
    if not isinstance(data, dict):
        raise ApiError(400, {where: ["Expected a dictionary of items."]})
    logic = data.get("logic_type")
    if logic not in LOGIC_TYPES:
        raise ApiError(400, {where: {"logicType": [f'"{logic}" is not a valid choice.']}})
    conditions = data.get("conditions") or []
    if not isinstance(conditions, list):
        raise ApiError(400, {where: {"conditions": ["Expected a list of items."]}})
    old = existing or {"conditions": [], "actions": []}
    group = {
        "id": existing["id"] if existing else store.next_id("dcg"),
        "logic_type": logic,
        "conditions": _merge(old["conditions"], conditions, f"{where}.conditions",
                             lambda: store.next_id("data_condition"),
                             lambda c, w: _condition(c, w, allowed)),
        "actions": [],
    }
    if with_actions:
        if "actions" not in data:
            raise ApiError(400, {where: ["Missing actions key in action filter"]})
        actions = data["actions"]
        if not isinstance(actions, list):
            raise ApiError(400, {where: {"actions": ["Expected a list of items."]}})
        for item in actions:
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is not None and as_int(ident) not in {a["id"] for a in old["actions"]}:
                raise ApiError(400, {where: [
                    f"Action ID {ident} does not belong to this workflow"]})
        group["actions"] = _merge(old["actions"], actions, f"{where}.actions",
                                  lambda: store.next_id("wf_action"),
                                  lambda a, w: _action(a, w, store, org))
    return group


def serialize_group(group: Record | None, org: Record) -> Record | None:
    """Response shape; conditions and actions come newest first (Sentry promises no order,
    so clients must compare them as sets)."""
    if group is None:
        return None
    return {
        "id": str(group["id"]), "organizationId": str(org["id"]),
        "logicType": group["logic_type"],
        "conditions": [{"id": str(c["id"]), "type": c["type"],
                        "comparison": camel(c["comparison"]),
                        "conditionResult": c["condition_result"]} for c in reversed(group["conditions"])],
        "actions": [{"id": str(a["id"]), "type": a["type"],
                     "integrationId": None if a["integration_id"] is None
                     else str(a["integration_id"]),
                     "config": camel(a["config"]), "data": camel(a["data"]), "status": "active"}
                    for a in reversed(group["actions"])],
    }
