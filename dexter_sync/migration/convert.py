"""Legacy alert manifests -> `alerts` and `monitors` entries (plain mappings, friendly forms).

Issue alert rule -> one alert on the project's `error` monitor: trigger conditions become
`triggers`, frequency conditions and filters become the action filter's conditions,
`action_match`/`filter_match` the two `*_match` fields (`any` -> `any-short`, as Sentry's
own migration does). Metric alert rule -> a metric monitor (query, window, thresholds) and
an alert on it holding the trigger actions; actions only the critical trigger had run
for high-priority issues only (an `issue_priority_greater_or_equal: 75` filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..core.directory import Directory
from ..core.state import DesiredState
from ..kinds.issue_alerts.model import IssueAlertEntry
from ..kinds.issue_alerts.nodes import node_friendly
from ..kinds.metric_alerts.actions import action_friendly, action_payload
from ..kinds.metric_alerts.model import MetricAlertEntry
from ..kinds.monitors.metric import MetricMonitorEntry
from ..kinds.registry import get_kind

TRIGGERS = {"first_seen_event", "regression_event", "reappeared_event",
            "new_high_priority_issue", "existing_high_priority_issue", "every_event"}
TICKETS = {"jira": "jira", "jira_server": "jira_server", "github": "github",
           "github_enterprise": "github_enterprise", "azure_devops": "vsts"}
MATCH = {"any": "any-short", "all": "all", "none": "none"}
FALLTHROUGH = {"active_members": "ActiveMembers", "all_members": "AllMembers",
               "no_one": "NoOne"}
CATEGORIES = {"error": 1, "performance": 2, "profile": 3, "cron": 4, "replay": 5}


class Unconvertible(ValueError):
    """A legacy node or action with no workflow equivalent dexter knows."""


@dataclass
class Converted:
    monitors: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    """new alert name -> legacy address (`issue_alert/backend/x`)"""
    problems: list[str] = field(default_factory=list)


def convert(desired: DesiredState, directory: Directory) -> Converted:
    out = Converted()
    for resource in desired.resources:
        where = f"{resource.kind}/{resource.key}"
        try:
            if isinstance(resource.entry, IssueAlertEntry):
                out.alerts.append(issue_alert(resource.entry, directory))
            elif isinstance(resource.entry, MetricAlertEntry):
                monitor, alert = metric_alert(resource.entry, directory)
                out.monitors.append(monitor)
                out.alerts.append(alert)
            else:
                continue
        except Unconvertible as error:
            span = f" ({resource.span})" if resource.span else ""
            out.problems.append(f"{where}{span}: {error}")
            continue
        out.sources[out.alerts[-1]["name"]] = where
    return out


def _common(entry: Any, alert: dict[str, Any]) -> dict[str, Any]:
    declared = entry.model_fields_set
    for name in ("environment", "owner"):
        if name in declared and getattr(entry, name) is not None:
            alert[name] = getattr(entry, name)
    return alert


# ---- issue alert rules ------------------------------------------------------------------

def issue_alert(entry: IssueAlertEntry, directory: Directory) -> dict[str, Any]:
    payload = get_kind("issue_alert").build_payload(entry, directory=directory)
    triggers: list[Any] = []
    filters: list[Any] = []
    for node in payload.get("conditions") or []:
        role, friendly = node_friendly(node, directory, defaults=False)
        short, params = _short(friendly)
        if short in TRIGGERS:
            triggers.append(short)
        elif role == "filter":  # event_attribute: a filter Sentry accepts under conditions
            filters.append(_filter(short, params))
        else:
            filters.append(_frequency(short, params))
    for node in payload.get("filters") or []:
        _, friendly = node_friendly(node, directory, defaults=False)
        filters.append(_filter(*_short(friendly)))
    actions = []
    for node in payload.get("actions") or []:
        _, friendly = node_friendly(node, directory, defaults=False)
        actions.append(_issue_action(*_short(friendly)))
    alert: dict[str, Any] = {"name": entry.name, "projects": [entry.project]}
    if entry.frequency not in (30, "30m"):
        alert["frequency"] = entry.frequency
    if triggers:
        alert["triggers"] = triggers
    match = MATCH[entry.action_match]
    if match != "any-short":
        alert["trigger_match"] = match
    if filters:
        alert["filters"] = filters
    filter_match = MATCH[entry.filter_match or "all"]
    if filter_match != "all":
        alert["filter_match"] = filter_match
    alert["actions"] = actions
    return _common(entry, alert)


def _short(friendly: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(friendly, str):
        return friendly, {}
    if isinstance(friendly, dict) and len(friendly) == 1 and "id" not in friendly:
        short, params = next(iter(friendly.items()))
        return str(short), dict(params or {})
    raise Unconvertible(f"node {friendly.get('id') if isinstance(friendly, dict) else friendly}"
                        " has no workflow equivalent; convert it by hand")


def _frequency(short: str, p: dict[str, Any]) -> Any:
    percent = p.get("comparison_type") == "percent"
    base = {"value": p.get("value"), "interval": p.get("interval")}
    if percent:
        base["comparison_interval"] = p.get("comparison_interval") or "1d"
    kinds = {"event_frequency": ("event_frequency_count", "event_frequency_percent"),
             "event_unique_user_frequency": ("event_unique_user_frequency_count",
                                             "event_unique_user_frequency_percent"),
             "event_frequency_percent": ("percent_sessions_count", "percent_sessions_percent")}
    if short not in kinds:
        raise Unconvertible(f"condition {short!r} has no workflow equivalent")
    return {kinds[short][percent]: base}


def _filter(short: str, p: dict[str, Any]) -> Any:
    if short == "latest_release":
        return "latest_release"
    if short in ("age_comparison", "issue_occurrences", "event_attribute", "tagged_event"):
        return {short: {k: v for k, v in p.items() if v is not None}}
    if short == "level":
        return {"level": {"level": p["level"], "match": p["match"]}}
    if short == "issue_category":
        value = p["value"]
        return {"issue_category": {"value": CATEGORIES.get(value, value)}}
    if short == "assigned_to":
        target = p.get("target") or ("team" if p.get("team") else
                                     "member" if p.get("user") else "unassigned")
        if target == "unassigned":
            return {"assigned_to": {"target_type": "NoOne", "target_identifier": ""}}
        raise Unconvertible("assigned_to a team or member needs its id; convert it by hand")
    raise Unconvertible(f"filter {short!r} has no workflow equivalent")


def _issue_action(short: str, p: dict[str, Any]) -> dict[str, Any]:
    if short == "email":
        target = p.get("target") or ("team" if p.get("team") else
                                     "member" if p.get("user") else "issue_owners")
        if target == "team":
            return {"email": {"team": p["team"]}}
        if target == "member":
            return {"email": {"user": p["user"]}}
        fallthrough = FALLTHROUGH.get(p.get("fallthrough") or "active_members", "ActiveMembers")
        params: dict[str, Any] = {"target_type": "issue_owners"}
        if fallthrough != "ActiveMembers":
            params["fallthrough"] = fallthrough
        return {"email": params}
    keep = {"slack": ("channel", "workspace", "channel_id", "tags", "notes"),
            "msteams": ("channel", "team"), "discord": ("channel_id", "server", "tags"),
            "opsgenie": ("team", "account", "priority")}
    if short in keep:
        out = {k: p[k] for k in keep[short] if p.get(k) is not None}
        if isinstance(out.get("tags"), list):
            out["tags"] = ",".join(out["tags"])
        return {short: out}
    if short == "pagerduty":
        return {"pagerduty": {k: v for k, v in (("service", p.get("service")),
                                                ("account", p.get("account")),
                                                ("priority", p.get("severity")))
                              if v is not None}}
    if short in TICKETS:
        fields = {k: v for k, v in p.items() if k not in ("integration", "fields",
                                                          "dynamic_form_fields")}
        fields.update(p.get("fields") or {})
        out = {"fields": fields}
        if p.get("integration") is not None:
            out["integration"] = p["integration"]
        return {TICKETS[short]: out}
    if short == "notify_event_service":
        return {"webhook": {"service": p["service"]}}
    if short == "notify_event":
        return {"plugin": {}}
    raise Unconvertible(f"action {short!r} has no workflow equivalent dexter knows (a Sentry "
                        "app action needs the app id); convert it by hand")


# ---- metric alert rules -----------------------------------------------------------------

_MONITOR_FIELDS = ("dataset", "query", "environment", "owner", "description", "event_types",
                   "resolve_threshold", "sensitivity")


def metric_alert(entry: MetricAlertEntry, directory: Directory
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    projects = entry.project_slugs()
    if len(projects) != 1:
        raise Unconvertible("a metric monitor belongs to exactly one project")
    threshold = {0: "above", 1: "below", 2: "above_and_below"}[entry.threshold_type_code()]
    monitor: dict[str, Any] = {"type": "metric", "name": entry.name, "project": projects[0],
                               "aggregate": entry.aggregate, "time_window": entry.time_window}
    if threshold != "above":
        monitor["threshold_type"] = threshold
    declared = entry.model_fields_set
    for name in _MONITOR_FIELDS:
        if name in declared and getattr(entry, name) is not None:
            monitor[name] = getattr(entry, name)
    if entry.comparison_delta is not None:
        monitor["comparison_delta"] = entry.comparison_delta
    detection = entry.effective_detection_type()
    if detection == "dynamic":
        monitor["detection_type"] = "dynamic"
    triggers = entry.trigger_list()
    if detection != "dynamic":
        monitor["triggers"] = {label: {"threshold": value} for label, value, _ in triggers}
    _check_monitor(monitor)
    by_label = {label: [_metric_action(a, label, directory) for a in actions]
                for label, _, actions in triggers}
    critical, warning = by_label.get("critical", []), by_label.get("warning", [])
    alert: dict[str, Any] = {"name": entry.name, "monitors": [entry.name]}
    if not warning or warning == critical:
        alert["actions"] = critical
    else:  # actions of the critical trigger only: high-priority issues only
        alert["action_filters"] = [
            {"conditions": [{"issue_priority_greater_or_equal": 75}], "actions": critical},
            {"conditions": [{"issue_priority_greater_or_equal": 50}], "actions": warning}]
    return monitor, _common(entry, alert)


def _check_monitor(monitor: dict[str, Any]) -> None:
    """A legacy rule may use windows a metric monitor does not offer (time_window 3m,
    comparison_delta 2d): refuse it here rather than write a manifest that cannot load."""
    try:
        MetricMonitorEntry.model_validate({k: v for k, v in monitor.items() if k != "type"})
    except ValidationError as error:
        reason = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
        raise Unconvertible(f"no metric monitor matches it: {reason}") from None


def _metric_action(action: Any, label: str, directory: Directory) -> dict[str, Any]:
    friendly = action_friendly(action_payload(action, directory=directory), label=label,
                               directory=directory)
    kind = next(iter(friendly))
    if kind == "type":
        raise Unconvertible(f"a {friendly['type']} action in Sentry's own form; convert it by "
                            "hand")
    params = {k: v for k, v in friendly[kind].items() if v is not None}
    if kind == "sentry_app":
        params.pop("installation_uuid", None)
    return {kind: params}
