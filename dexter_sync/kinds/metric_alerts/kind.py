"""The `metric_alert` kind: Sentry's legacy organization alert rules (REFERENCE §1).

Natural key: the rule name. The comparison form of both sides is canonical.py's; here are
the request body, the export form (`entry_from_live`) and the API calls.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from ...core.changes import ResourceChange, SafetyFinding
from ...core.diagnostics import DexterError
from ...core.directory import Directory
from ...core.requests import ApiRequest, path_segment
from ...core.state import LiveObject
from ..alert_gates import metric_alert_gates
from ..base import Fallback, ListRequest, ReadContext, Reference, ResourceKind, SlackChannel
from ..fields import (
    actor_refs,
    format_duration,
    number,
    owner_friendly,
    owner_refs,
    owner_to_sentry,
    payload_number,
    revealed_channel,
    slack_channel_name,
    with_raw,
)
from ..registry import register
from .actions import (
    EmailTarget,
    FriendlyAction,
    SentryAction,
    action_friendly,
    action_payload,
    echo_action_ids,
    id_order,
    without_default_priority,
)
from .canonical import OPTIONAL, canonical_body, canonical_live, display_aggregate
from .model import (
    DATASET_QUERY_TYPE,
    QUERY_TYPE_NAMES,
    QUERY_TYPES,
    THRESHOLD_NAMES,
    MetricAlertEntry,
)

_PROVIDERS = {"slack": "slack", "pagerduty": "pagerduty", "opsgenie": "opsgenie",
              "msteams": "msteams", "discord": "discord"}
_INTEGRATION_FIELD = {"slack": "workspace", "pagerduty": "account", "opsgenie": "account",
                      "msteams": "team", "discord": "server"}


def build_payload(entry: MetricAlertEntry, *, directory: Directory) -> dict[str, Any]:
    """The complete Sentry request body (POST and PUT) for a metric alert entry."""
    body: dict[str, Any] = {
        "name": entry.name,
        "aggregate": entry.aggregate,
        "query": entry.query,
        "dataset": entry.dataset or "events",
        "timeWindow": round(entry.time_window),
        "thresholdType": entry.threshold_type_code(),
        "thresholdPeriod": entry.threshold_period,
        "projects": entry.project_slugs(),
        "triggers": [
            {"label": label, "alertThreshold": payload_number(threshold),
             "actions": [action_payload(a, directory=directory) for a in actions]}
            for label, threshold, actions in entry.trigger_list()
        ],
    }
    declared = entry.model_fields_set
    for key, field in OPTIONAL.items():
        if field in declared:
            body[key] = getattr(entry, field)
    # what Sentry would store anyway; sent so an update also turns a dynamic rule back
    body["detectionType"] = entry.effective_detection_type()
    if "owner" in body:
        body["owner"] = owner_to_sentry(entry.owner, directory)
    if body.get("resolveThreshold") is not None:
        body["resolveThreshold"] = payload_number(body["resolveThreshold"])
    if body.get("comparisonDelta") is not None:
        body["comparisonDelta"] = round(body["comparisonDelta"])
    if isinstance(body.get("queryType"), str):
        body["queryType"] = QUERY_TYPES[body["queryType"]]
    return with_raw(body, entry.raw)


def payload_for_update(entry: MetricAlertEntry, live_data: dict[str, Any], *,
                       directory: Directory) -> dict[str, Any]:
    """The PUT body, echoing live trigger and action ids so Sentry keeps them (§1.4)."""
    return echo_ids(build_payload(entry, directory=directory), live_data)


def echo_ids(payload: dict[str, Any], live_data: dict[str, Any] | None) -> dict[str, Any]:
    if not live_data:
        return payload
    body = copy.deepcopy(payload)
    live_triggers = {t.get("label"): t for t in live_data.get("triggers") or []}
    for trigger in body.get("triggers", []):
        live = live_triggers.get(trigger.get("label"))
        if live is None:
            continue
        if "id" not in trigger and live.get("id") is not None:
            trigger["id"] = live["id"]
        echo_action_ids(trigger.get("actions", []), live.get("actions") or [])
    return body


def entry_from_live(data: dict[str, Any], *, directory: Directory) -> MetricAlertEntry:
    """The manifest entry describing a live rule, in friendly forms (what export writes)."""
    projects = sorted(data.get("projects") or [])
    dataset = data.get("dataset") or "events"
    entry: dict[str, Any] = {
        "name": data.get("name"),
        "aggregate": str(data.get("aggregate") or ""),
        "query": data.get("query") or "",
        "time_window": format_duration(float(data.get("timeWindow") or 1)),
        "threshold_type": THRESHOLD_NAMES.get(int(data.get("thresholdType") or 0), "above"),
        "threshold_period": int(data.get("thresholdPeriod") or 1),
        "triggers": _live_triggers(data, directory),
    }
    if len(projects) == 1:
        entry["project"] = projects[0]
    elif projects:
        entry["projects"] = projects
    if dataset != "events":
        entry["dataset"] = dataset
    query_type = data.get("queryType")
    if query_type is not None and query_type != DATASET_QUERY_TYPE.get(dataset):
        entry["query_type"] = QUERY_TYPE_NAMES.get(query_type, query_type)
    if data.get("eventTypes") is not None:
        entry["event_types"] = sorted(data["eventTypes"])
    for key, field in (("environment", "environment"), ("sensitivity", "sensitivity"),
                       ("seasonality", "seasonality"), ("extrapolationMode", "extrapolation_mode")):
        if data.get(key) is not None:
            entry[field] = data[key]
    if data.get("owner"):
        entry["owner"] = owner_friendly(data["owner"], directory)
    if data.get("resolveThreshold") is not None:
        entry["resolve_threshold"] = number(data["resolveThreshold"])
    if data.get("comparisonDelta") is not None:
        entry["comparison_delta"] = format_duration(float(data["comparisonDelta"]))
    if (data.get("description") or "").strip():
        entry["description"] = data["description"]
    derived = "percent" if data.get("comparisonDelta") is not None else "static"
    if data.get("detectionType") not in (None, derived):
        entry["detection_type"] = data["detectionType"]
    try:
        return MetricAlertEntry.model_validate(entry, context={"live": True})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DexterError(
            f"live metric alert {data.get('name')!r} (id {data.get('id')}) cannot be read: "
            f"{where}: {first['msg']}", code="unreadable-live-object") from None


def _live_triggers(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    triggers: dict[str, Any] = {}
    for t in sorted(data.get("triggers") or [], key=lambda t: str(t.get("label"))):
        label = t.get("label")
        triggers[label] = {
            "threshold": number(t.get("alertThreshold")),
            "actions": [without_default_priority(
                action_friendly(a, label=label, directory=directory), label)
                for a in sorted(t.get("actions") or [], key=id_order)],
        }
    return triggers


DEFAULT_EVENT_TYPES: dict[str, list[str]] = {
    "events": ["error"], "transactions": ["transaction"], "metrics": []}
"""What Sentry stores when a rule is created without eventTypes (REFERENCE §1.3a)."""


class MetricAlertKind(ResourceKind[MetricAlertEntry]):
    name = "metric_alert"
    section = "metric_alerts"
    entry_model = MetricAlertEntry
    scope = "organization"
    title = "Metric alert rule (legacy organization alert rule, /alert-rules/)."
    replaced_by = ("alert", "metric_monitor")
    retired_hint = ("Sentry has moved this organization's alert rules to workflows: run "
                    "`dexter migrate alerts PATH` to move these manifests to `alerts` and "
                    "`monitors`")
    live_optional_fields = ("event_types",)
    canonical_reuses_payload = True
    task_segment = "alert-rule-task"
    task_rule_field = "alertRule"
    id_path_segments = ("alert-rule-task",)

    def key(self, entry: MetricAlertEntry) -> str:
        return entry.name

    # ---- fields only the detail response carries (REFERENCE §1.5: `eventTypes`) -----------

    def detail_request(self, organization: str, obj: LiveObject) -> ApiRequest:
        """The detail of one rule: read when a manifest declares `event_types`, which list
        responses omit, so that drift in it is seen."""
        return ApiRequest("GET", f"organizations/{path_segment(organization)}/alert-rules/"
                                 f"{path_segment(obj.id)}/")

    def with_detail(self, data: dict[str, Any], detail: Any) -> dict[str, Any]:
        """The listed rule with the detail's `eventTypes` (the list item is otherwise the
        same object)."""
        if isinstance(detail, dict) and isinstance(detail.get("eventTypes"), list):
            return {**data, "eventTypes": detail["eventTypes"]}
        return data

    def export(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        """`event_types` is written only where it differs from the dataset's default."""
        exported = super().export(data, directory=directory)
        dataset = exported.get("dataset") or "events"
        if "event_types" in exported \
                and exported["event_types"] == DEFAULT_EVENT_TYPES.get(dataset):
            del exported["event_types"]
        return exported

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data.get("name"))

    def references(self, entry: MetricAlertEntry) -> list[Reference]:
        refs: list[Reference] = []
        field = "projects" if entry.projects is not None else "project"
        refs += [Reference("project", p, (field,)) for p in entry.project_slugs()]
        if entry.environment:
            refs.append(Reference("environment", entry.environment, ("environment",)))
        refs += owner_refs(entry.owner)
        for index, (label, _, actions) in enumerate(entry.trigger_list()):
            base = ("triggers", label) if not isinstance(entry.triggers, list) \
                else ("triggers", index)
            for n, action in enumerate(actions):
                refs += _action_refs(action, (*base, "actions", n))
        return refs

    def build_payload(self, entry: MetricAlertEntry, *, directory: Directory) -> dict[str, Any]:
        return build_payload(entry, directory=directory)

    def canonical(self, entry: MetricAlertEntry, *, directory: Directory) -> dict[str, Any]:
        return canonical_body(build_payload(entry, directory=directory), directory)

    def canonical_from_payload(self, entry: MetricAlertEntry, payload: dict[str, Any], *,
                               directory: Directory) -> dict[str, Any]:
        """canonical() from the entry's request body, already built (the planner reuses it)."""
        return canonical_body(payload, directory)

    def canonical_live(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        """Sentry's JSON straight to the comparison form (canonical.py); a rule holding a
        value the entry model refuses is read the way export reads it, which reports it."""
        try:
            return canonical_live(data, directory)
        except Fallback:
            return super().canonical_live(data, directory=directory)

    def safety_findings(self, change: ResourceChange) -> list[SafetyFinding]:
        return metric_alert_gates(change)

    def slack_channels(self, data: dict[str, Any]) -> Iterable[SlackChannel]:
        """Slack actions carry `integrationId`, `targetIdentifier` (the name) and
        `inputChannelId` (the id Sentry resolved)."""
        for trigger in data.get("triggers") or []:
            for action in trigger.get("actions") or []:
                if action.get("type") == "slack" and action.get("inputChannelId") \
                        and action.get("integrationId"):
                    yield revealed_channel(action["integrationId"],
                                           action.get("targetIdentifier"),
                                           action["inputChannelId"])

    def may_answer_with_task(self, request: ApiRequest) -> bool:
        """A Slack action without `inputChannelId`: Sentry looks the channel up in a task
        (REFERENCE §1.2)."""
        body = request.json if isinstance(request.json, dict) else {}
        return any(action.get("type") == "slack" and not action.get("inputChannelId")
                   for trigger in body.get("triggers") or []
                   for action in trigger.get("actions") or [])

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> MetricAlertEntry:
        return entry_from_live(data, directory=directory)

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        path = f"organizations/{path_segment(ctx.organization)}/alert-rules/"
        return [ListRequest(ApiRequest("GET", path, params={"per_page": 100}))]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        path = f"organizations/{path_segment(organization)}/alert-rules/"
        return ApiRequest("POST", path, json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        body = echo_ids(change.payload or {}, change.live)
        return ApiRequest("PUT", self._detail(organization, change), json=body)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", self._detail(organization, change))

    @staticmethod
    def _detail(organization: str, change: ResourceChange) -> str:
        return (f"organizations/{path_segment(organization)}/alert-rules/"
                f"{path_segment(change.live_id or '')}/")


def _action_refs(action: Any, path: tuple[Any, ...]) -> list[Reference]:
    if isinstance(action, SentryAction):
        if action.integration_id is not None and action.type in _PROVIDERS:
            return [Reference("integration", str(action.integration_id),
                              (*path, "integration_id"), provider=_PROVIDERS[action.type])]
        return []
    assert isinstance(action, FriendlyAction)
    refs: list[Reference] = []
    for which, provider in _PROVIDERS.items():
        target = getattr(action, which)
        if target is None:
            continue
        integration = getattr(target, _INTEGRATION_FIELD[which])
        refs.append(Reference("integration", "" if integration is None else str(integration),
                              (*path, which, _INTEGRATION_FIELD[which]), provider=provider))
        if which == "slack":
            refs.append(Reference("slack_channel", slack_channel_name(target.channel),
                                  (*path, "slack", "channel"),
                                  scope=None if integration is None else str(integration)))
    email = action.email
    if isinstance(email, EmailTarget):
        refs += actor_refs("team", email.team, (*path, "email", "team"))
        refs += actor_refs("member", email.user, (*path, "email", "user"))
    return refs


register(MetricAlertKind())

__all__ = [
    "MetricAlertEntry",
    "MetricAlertKind",
    "build_payload",
    "display_aggregate",
    "entry_from_live",
    "payload_for_update",
]
