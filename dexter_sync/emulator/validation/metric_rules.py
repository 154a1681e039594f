"""Metric alert rule validation (REFERENCE.md §1.1–1.3): the body, after CamelSnake key
conversion, becomes the stored record (snake_case in, camelCase record out)."""

from __future__ import annotations

from typing import Any

from ..api import ApiError
from ..seeding import find_by
from ..store import Store
from .fields import REQUIRED, Errors, choice, integer, number, string

DATASETS = {"events": 0, "transactions": 1, "generic_metrics": 1, "metrics": 2,
            "events_analytics_platform": 1}
CRASH_WINDOWS = {30, 60, 120, 240, 720, 1440}
ACTION_TYPES = ["email", "slack", "msteams", "pagerduty", "opsgenie", "discord", "sentry_app",
                "sentry_notification"]
TARGET_TYPES = {"email": ["user", "team"], "sentry_app": ["sentry_app"],
                "sentry_notification": ["specific"]}
INTEGRATION_TYPES = {"slack", "msteams", "pagerduty", "opsgenie", "discord"}
PRIORITIES = {"pagerduty": ["critical", "warning", "error", "info"],
              "opsgenie": ["P1", "P2", "P3", "P4", "P5"]}
DEFAULT_PRIORITY = {"pagerduty": {"critical": "critical", "warning": "warning"},
                    "opsgenie": {"critical": "P1", "warning": "P2"}}


def resolution_for(window: int, delta: int | None, detection: str) -> int:
    if detection == "dynamic":
        return window
    res = 1 if window < 30 else 2 if window < 60 else 3 if window < 240 else \
        5 if window < 1440 else 15
    return res * 2 if delta else res


def validate_rule(store: Store, org: dict[str, Any], body: dict[str, Any], *, partial_of: dict[str, Any] | None,
                  forced_project: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The validated rule record and the Slack actions that need a channel lookup.

    `partial_of` is the existing record on PUT (then absent fields keep their values,
    except `triggers`, which the server always replaces).
    """
    errors = Errors()
    old = partial_of or {}
    get = body.get
    rec: dict[str, Any] = {}
    for key in ("name", "aggregate", "time_window", "query", "threshold_type", "triggers"):
        if key not in body and (partial_of is None or key == "triggers"):
            errors.add(_camel(key), REQUIRED)
    if "name" in body:
        rec["name"] = string(errors, "name", get("name"), max_length=256)
    if "aggregate" in body:
        agg = string(errors, "aggregate", get("aggregate"))
        if agg and agg.startswith("upsampled_count("):
            errors.add("aggregate", "Invalid Metric: upsampled_count() is not a supported "
                       "aggregate")
        rec["aggregate"] = agg
    if "query" in body:
        query = string(errors, "query", get("query"), allow_blank=True)
        if query and "release:latest" in query:
            errors.add("query", "Latest release is not supported for alert rules")
        if query and "project:" in query:
            errors.add("query", "Project is an invalid search term")
        rec["query"] = query
    dataset = get("dataset", old.get("dataset", "events"))
    if choice(errors, "dataset", dataset, list(DATASETS)) is not None:
        rec["dataset"] = dataset
        qt = get("query_type", DATASETS[dataset])
        if qt != DATASETS[dataset]:
            errors.add("queryType", "Invalid query type for dataset")
        rec["queryType"] = DATASETS[dataset]
    if "time_window" in body:
        window = integer(errors, "timeWindow", get("time_window"), low=1, high=1440)
        if window and dataset == "metrics" and window not in CRASH_WINDOWS:
            errors.add("timeWindow", "Invalid Time Window: Allowed time windows for crash "
                       "rate alerts are: 30min, 1h, 2h, 4h, 12h and 24h")
        rec["timeWindow"] = window
    if "threshold_type" in body:
        tt = integer(errors, "thresholdType", get("threshold_type"))
        if tt == 2 and get("detection_type", old.get("detectionType")) != "dynamic":
            errors.add("nonFieldErrors",
                       "Above and below is not a valid threshold type for this alert type")
        elif tt is not None and tt not in (0, 1, 2):
            errors.add("thresholdType", f'"{tt}" is not a valid choice.')
        rec["thresholdType"] = tt
    if "threshold_period" in body:
        rec["thresholdPeriod"] = integer(errors, "thresholdPeriod", get("threshold_period"),
                                         low=1, high=20)
    elif partial_of is None:
        rec["thresholdPeriod"] = 1
    _simple_optionals(store, org, body, rec, errors, partial_of)
    _projects(store, org, body, rec, errors, forced_project, old)
    errors.raise_if_any()
    merged = {**old, **{k: v for k, v in rec.items()}}
    if partial_of is not None:  # update quirk: name/description change only when truthy
        for key in ("name", "description"):
            if key in rec and not rec[key]:
                merged[key] = old.get(key)
    slack_lookups: list[dict[str, Any]] = []
    merged["triggers"] = _triggers(store, org, get("triggers"), merged, errors, slack_lookups)
    errors.raise_if_any()
    return merged, slack_lookups


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def _simple_optionals(store: Store, org: dict[str, Any], body: dict[str, Any], rec: dict[str, Any], errors: Errors,
                      partial_of: dict[str, Any] | None) -> None:
    get = body.get
    if "environment" in body and get("environment") is not None:
        env = get("environment")
        if not any(e["name"] == env for e in store.query("environment", org["id"])):
            errors.add("environment", "Invalid environment")
        rec["environment"] = env
    elif "environment" in body or partial_of is None:
        rec["environment"] = None
    if "resolve_threshold" in body:
        rt = get("resolve_threshold")
        rec["resolveThreshold"] = None if rt is None else number(errors, "resolveThreshold", rt)
    elif partial_of is None:
        rec["resolveThreshold"] = None
    if "comparison_delta" in body and get("comparison_delta") is not None:
        rec["comparisonDelta"] = integer(errors, "comparisonDelta", get("comparison_delta"),
                                         low=1, high=128160)
    elif "comparison_delta" in body or partial_of is None:
        rec["comparisonDelta"] = None
    if "owner" in body and get("owner") is not None:
        rec["owner"] = _owner(store, org, get("owner"), errors)
    elif "owner" in body or partial_of is None:
        rec["owner"] = None
    if "description" in body:
        rec["description"] = string(errors, "description", get("description") or "",
                                    allow_blank=True)
    elif partial_of is None:
        rec["description"] = ""
    detection = get("detection_type", (partial_of or {}).get("detectionType", "static"))
    if choice(errors, "detectionType", detection, ["static", "percent", "dynamic"]) is None:
        return
    delta = rec.get("comparisonDelta", (partial_of or {}).get("comparisonDelta"))
    if detection == "percent" and not delta:
        errors.add("nonFieldErrors", "Percentage-based alerts require a comparison delta")
    if detection == "static" and delta:
        detection = "percent"  # Sentry stores a static rule with a delta as percent
    if detection != "dynamic" and get("sensitivity") is not None:
        errors.add("nonFieldErrors", "Sensitivity is not a valid field for this alert type")
    rec["detectionType"] = detection
    rec["sensitivity"] = get("sensitivity") if detection == "dynamic" else None
    rec["seasonality"] = "auto" if detection == "dynamic" else None
    if "event_types" in body:
        types = get("event_types")
        if not isinstance(types, list) or not all(t in ("error", "default", "transaction",
                                                        "trace_item_span", "trace_item_log",
                                                        "trace_item_metric") for t in types):
            errors.add("eventTypes", "Invalid event types for this dataset.")
        else:
            rec["eventTypes"] = sorted(set(types))
    elif partial_of is None:
        ds = get("dataset", "events")
        rec["eventTypes"] = ["transaction"] if ds == "transactions" else \
            [] if ds == "metrics" else ["error"]


def _owner(store: Store, org: dict[str, Any], owner: Any, errors: Errors) -> str | None:
    kind, _, ident = str(owner).partition(":")
    if kind == "team" and find_by(store, "team", org, ident):
        return f"team:{ident}"
    if kind == "user" and any(str(m["userId"]) == ident
                              for m in store.query("member", org["id"])):
        return f"user:{ident}"
    errors.add("owner", "Could not parse actor. Format should be `type:id` where type is "
               "`team` or `user`." if not ident else "Unknown actor")
    return None


def _projects(store: Store, org: dict[str, Any], body: dict[str, Any], rec: dict[str, Any], errors: Errors,
              forced: dict[str, Any] | None, old: dict[str, Any]) -> None:
    if forced is not None:
        rec["projects"] = [forced["id"]]
        return
    if "projects" not in body:
        if not old:
            rec["projects"] = []
        return
    slugs = body.get("projects")
    if not isinstance(slugs, list):
        errors.add("projects",
                   f'Expected a list of items but got type "{type(slugs).__name__}".')
        return
    if len(slugs) > 1:
        errors.add("projects", "Ensure this field has no more than 1 elements.")
        return
    ids = []
    for slug in slugs:
        project = find_by(store, "project", org, slug, "slug")
        if project is None:
            errors.add("projects", "Invalid project")
            return
        ids.append(project["id"])
    rec["projects"] = ids


def _triggers(store: Store, org: dict[str, Any], triggers: Any, rule: dict[str, Any], errors: Errors,
              slack: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(triggers, list):
        if triggers is not None:
            errors.add("triggers",
                       f'Expected a list of items but got type "{type(triggers).__name__}".')
        return []
    if not 1 <= len(triggers) <= 2:
        errors.add("nonFieldErrors", "Must send 1 or 2 triggers - A critical trigger, and an "
                   "optional warning trigger")
        return []
    out = []
    for index, trig in enumerate(triggers):
        label = "critical" if index == 0 else "warning"
        if not isinstance(trig, dict):
            errors.add("triggers", "Invalid data. Expected a dictionary.")
            return []
        if trig.get("label") != label:
            errors.add("nonFieldErrors", f'{"First" if index == 0 else "Second"} trigger must '
                       f'be labeled "{label}"')
            return []
        if trig.get("alert_threshold") is None:
            errors.add("nonFieldErrors", "Trigger must have an alertThreshold")
            return []
        threshold = number(errors, "alertThreshold", trig["alert_threshold"])
        actions = trig.get("actions")
        if not isinstance(actions, list) or not actions:
            errors.add("nonFieldErrors", "Each trigger must have an associated action for this "
                       "alert to fire.")
            return []
        out.append({"id": trig.get("id"), "label": label, "alertThreshold": threshold,
                    "actions": [_action(store, org, a, label, errors, slack) for a in actions]})
    if errors:
        return out
    _check_thresholds(rule, out, errors)
    return out


def _check_thresholds(rule: dict[str, Any], triggers: list[dict[str, Any]], errors: Errors) -> None:
    """Sentry translates percent-change thresholds (`100 ± x`) first and checks the order of
    the translated values (alert_rule.py `validate`: `_translate_thresholds`, then the
    checks; REFERENCE §1.3). The resolve threshold is translated only when truthy."""
    above = rule.get("thresholdType") != 1

    def translated(value: float) -> float:
        if not rule.get("comparisonDelta"):
            return value
        return 100 + value if above else 100 - value

    triggers = [{**t, "alertThreshold": translated(t["alertThreshold"])} for t in triggers]
    if len(triggers) == 2:
        crit, warn = triggers[0]["alertThreshold"], triggers[1]["alertThreshold"]
        if above and crit < warn:
            errors.add("nonFieldErrors",
                       "Critical trigger must have an alert threshold above warning trigger")
        if not above and crit > warn:
            errors.add("nonFieldErrors",
                       "Critical trigger must have an alert threshold below warning trigger")
    resolve = rule.get("resolveThreshold")
    if resolve is None:
        return
    resolve = translated(resolve) if resolve else resolve
    for trig in triggers:
        alert = trig["alertThreshold"]
        k = 1 if float(alert).is_integer() and float(resolve).is_integer() else 0
        if above and alert + k <= resolve - k:
            errors.add("nonFieldErrors",
                       f"{trig['label']} alert threshold must be above resolution threshold")
        if not above and alert - k >= resolve + k:
            errors.add("nonFieldErrors",
                       f"{trig['label']} alert threshold must be below resolution threshold")


def _action(store: Store, org: dict[str, Any], action: Any, label: str, errors: Errors,
            slack: list[dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(action, dict):
        errors.add("actions", "Invalid data. Expected a dictionary.")
        return {}
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        errors.add("type", f"Invalid type, valid values are {ACTION_TYPES}")
        return {}
    target_type = action.get("target_type")
    ident = action.get("target_identifier")
    if target_type is None or ident is None:
        errors.add("nonFieldErrors", "type, targetType and targetIdentifier must be passed "
                   "together")
        return {}
    allowed = TARGET_TYPES.get(kind, ["specific"])
    if target_type not in allowed:
        errors.add("targetType", f"Invalid target type for {kind}. Valid types are {allowed}")
        return {}
    integ_id = action.get("integration_id")
    out = {"id": action.get("id"), "type": kind, "targetType": target_type,
           "targetIdentifier": str(ident), "inputChannelId": None, "integrationId": None,
           "sentryAppId": action.get("sentry_app_id"), "priority": None}
    if kind in INTEGRATION_TYPES:
        integ = find_by(store, "integration", org, integ_id) if integ_id is not None else None
        if integ_id is None:
            errors.add("integration", f"Integration must be provided for {kind}")
            return out
        if integ is None or integ["provider"] != kind:
            errors.add("integration", "Integration does not exist")
            return out
        out["integrationId"] = int(integ["id"])
    if kind == "sentry_app" and out["sentryAppId"] is None:
        errors.add("sentryApp", "SentryApp must be provided for sentry_app")
    if kind == "email":
        _email_target(store, org, target_type, str(ident), errors)
    if kind in PRIORITIES:
        priority = action.get("priority") or DEFAULT_PRIORITY[kind][label]
        if priority not in PRIORITIES[kind]:
            errors.add("priority", f"Allowed priorities for {kind} are {PRIORITIES[kind]}")
        out["priority"] = priority
    elif action.get("priority") is not None:
        errors.add("priority", "Can only be set for Pagerduty or Opsgenie")
    if kind == "slack" and out["integrationId"] is not None:
        slack.append({"action": out, "channel_id": action.get("input_channel_id")})
    return out


def _email_target(store: Store, org: dict[str, Any], target_type: str, ident: str, errors: Errors) -> None:
    if target_type == "user" and not any(str(m["userId"]) == ident
                                         for m in store.query("member", org["id"])):
        errors.add("nonFieldErrors", "User does not belong to this organization")
    if target_type == "team" and find_by(store, "team", org, ident) is None:
        errors.add("nonFieldErrors", "Team does not exist")


def resolve_slack(store: Store, org: dict[str, Any], lookup: dict[str, Any]) -> None:
    """Fill a Slack action's channel name and id from the seeded channels (the lookup
    Sentry does against Slack); unknown channel → 400 like Sentry."""
    action = lookup["action"]
    name = action["targetIdentifier"].lstrip("#@")
    channels = store.find("slack_channel", org["id"], integrationId=action["integrationId"])
    match = next((c for c in channels if c["name"] == name or c["channelId"] == name), None)
    if lookup["channel_id"]:
        match = next((c for c in channels if c["channelId"] == lookup["channel_id"]), None)
        if match is None or match["name"] != name:
            raise ApiError(400, {"inputChannelId": [
                "Slack channel name from ID does not match input channel name."]})
    if match is None:
        raise ApiError(400, {"nonFieldErrors": [
            (f"Could not find channel {action['targetIdentifier']}. Channel may not exist, or "
            "Sentry may not have been granted permission to access it")]})
    action["targetIdentifier"] = "#" + match["name"]
    action["inputChannelId"] = match["channelId"]
