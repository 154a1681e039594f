"""The `metric_monitor` kind: a `metric_issue` detector (`type: metric` in `monitors`),
the workflow-engine successor of a metric alert rule (REFERENCE-workflows.md §2.9).

Friendly form: the query fields of a metric alert (durations for `time_window` and
`comparison_delta`, sent in seconds), `threshold_type: above|below`, and
`triggers: {critical: {threshold}, warning: {threshold}}`, which become the detector's
conditions with priorities 75 and 50 plus the resolve condition (priority 0) at
`resolve_threshold` (the critical threshold when not declared).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictFloat, StrictInt, model_validator

from ...core.changes import ResourceChange
from ...core.directory import Directory
from ...core.requests import ApiRequest
from ..base import EntryModel
from ..fields import (
    Duration,
    camelize,
    Minutes,
    format_duration,
    number,
    payload_number,
)
from ..metric_alerts import display_aggregate
from ..registry import register
from .common import (
    MonitorFields,
    MonitorKind,
    common_canonical,
    common_from_live,
    common_payload,
    data_source,
    first_source,
    response_of,
)

Number = StrictInt | StrictFloat
DATASETS = ("events", "transactions", "generic_metrics", "metrics", "events_analytics_platform")
EVENT_TYPES = ("error", "default", "transaction", "trace_item_span", "trace_item_log",
               "trace_item_metric")
DEFAULT_EVENT_TYPES = {"events": ["default", "error"], "transactions": ["transaction"],
                       "events_analytics_platform": ["trace_item_span"]}
WINDOW_SECONDS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400)
DELTA_SECONDS = (300, 900, 3600, 86400, 604800, 2592000)
PRIORITY = {"critical": 75, "warning": 50}
ABOVE = {"above": ("gt", "lte"), "below": ("lt", "gte")}
THRESHOLD_CODES = {"above": 0, "below": 1, "above_and_below": 2}


class Threshold(EntryModel):
    threshold: Number = Field(description="The value that raises the issue at this priority.")


class MetricTriggers(EntryModel):
    critical: Threshold | None = Field(None, description="High priority (75).")
    warning: Threshold | None = Field(None, description="Medium priority (50).")


class MetricMonitorEntry(MonitorFields):
    """A metric monitor (`metric_issue` detector; natural key: name)."""

    dataset: Literal[DATASETS] = Field(  # type: ignore[valid-type]
        "events", description="Sentry's dataset (`events` = errors).")
    aggregate: str = Field(min_length=1, description="e.g. `count()`, `p95(span.duration)`.")
    query: str = Field("", description="Search query; may be empty.")
    time_window: Duration = Field(description="1m, 5m, 10m, 15m, 30m, 1h, 2h, 4h or 1d "
                                              "(sent in seconds).")
    environment: str | None = Field(None, description="Environment name; all when absent.")
    event_types: list[Literal[EVENT_TYPES]] | None = Field(  # type: ignore[valid-type]
        None, description="Defaults from the dataset.")
    threshold_type: Literal["above", "below", "above_and_below"] = Field(
        "above", description="Raise above or below the thresholds (above_and_below: dynamic).")
    detection_type: Literal["static", "percent", "dynamic"] | None = Field(
        None, description="`static`; `percent` with comparison_delta; `dynamic` (anomaly).")
    comparison_delta: Duration | None = Field(
        None, description="Percent-change window: 5m, 15m, 1h, 1d, 1w or 30d.")
    triggers: MetricTriggers | None = Field(
        None, description="`{critical: {threshold}, warning: {threshold}}` (static/percent).")
    resolve_threshold: Number | None = Field(
        None, description="Resolve when the value crosses back over this (default: critical).")
    sensitivity: Literal["low", "medium", "high"] | None = Field(
        None, description="Dynamic monitors only.")

    @model_validator(mode="after")
    def _rules(self) -> MetricMonitorEntry:
        if round(self.time_window * 60) not in WINDOW_SECONDS:
            raise ValueError(f"time_window must be one of 1m, 5m, 10m, 15m, 30m, 1h, 2h, 4h, "
                             f"1d, got {format_duration(self.time_window)}")
        if self.comparison_delta is not None and \
                round(self.comparison_delta * 60) not in DELTA_SECONDS:
            raise ValueError("comparison_delta must be one of 5m, 15m, 1h, 1d, 1w, 30d, got "
                             f"{format_duration(self.comparison_delta)}")
        if self.effective_detection() == "dynamic":
            if self.sensitivity is None:
                raise ValueError("dynamic monitors need a sensitivity (low, medium, high)")
        elif self.triggers is None or self.triggers.critical is None:
            raise ValueError("static and percent monitors need triggers.critical.threshold")
        elif self.threshold_type == "above_and_below":
            raise ValueError("threshold_type above_and_below is for dynamic monitors only")
        return self

    @classmethod
    def fields_from_sentry(cls, given: dict[str, Any]) -> dict[str, Any]:
        snuba = camelize(first_source(given))
        return live_fields(response_of(given, {"snubaQuery": snuba}))

    def effective_detection(self) -> str:
        if self.detection_type is not None:
            return self.detection_type
        return "percent" if self.comparison_delta is not None else "static"


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value * 60)


def _conditions(entry: MetricMonitorEntry) -> list[dict[str, Any]]:
    if entry.effective_detection() == "dynamic":
        return [{"type": "anomaly_detection", "conditionResult": 75, "comparison": {
            "seasonality": "auto", "sensitivity": entry.sensitivity,
            "thresholdType": THRESHOLD_CODES[entry.threshold_type]}}]
    raise_op, resolve_op = ABOVE[entry.threshold_type]
    triggers = entry.triggers
    assert triggers is not None and triggers.critical is not None  # checked by the model
    out = [{"type": raise_op, "comparison": payload_number(t.threshold),
            "conditionResult": PRIORITY[label]}
           for label, t in (("critical", triggers.critical), ("warning", triggers.warning))
           if t is not None]
    resolve = entry.resolve_threshold if entry.resolve_threshold is not None \
        else triggers.critical.threshold
    out.append({"type": resolve_op, "comparison": payload_number(resolve),
                "conditionResult": 0})
    return out


def build_payload(entry: MetricMonitorEntry, directory: Directory) -> dict[str, Any]:
    query: dict[str, Any] = {"aggregate": entry.aggregate, "dataset": entry.dataset,
                             "query": entry.query, "timeWindow": _seconds(entry.time_window),
                             "environment": entry.environment}
    if entry.event_types is not None:
        query["eventTypes"] = list(entry.event_types)
    body = common_payload(entry, "metric_issue", directory)
    body.update(
        dataSources=[query],
        config={"detectionType": entry.effective_detection(),
                "comparisonDelta": _seconds(entry.comparison_delta)},
        conditionGroup={"logicType": "any", "conditions": _conditions(entry)})
    return body


def canonical(entry: MetricMonitorEntry, directory: Directory) -> dict[str, Any]:
    out = common_canonical(entry, directory)
    detection = entry.effective_detection()
    out.update(
        dataset=entry.dataset, aggregate=display_aggregate(entry.aggregate),
        query=" ".join(entry.query.split()), time_window=Minutes(entry.time_window),
        environment=entry.environment,
        event_types=sorted(entry.event_types or DEFAULT_EVENT_TYPES.get(entry.dataset, [])),
        detection_type=detection, threshold_type=entry.threshold_type,
        comparison_delta=None if entry.comparison_delta is None
        else Minutes(entry.comparison_delta))
    if detection == "dynamic":
        out["sensitivity"] = entry.sensitivity
        return out
    triggers = entry.triggers
    assert triggers is not None and triggers.critical is not None
    out["triggers"] = {label: {"threshold": number(t.threshold)} for label, t in (
        ("critical", triggers.critical), ("warning", triggers.warning)) if t is not None}
    out["resolve_threshold"] = number(entry.resolve_threshold if entry.resolve_threshold
                                      is not None else triggers.critical.threshold)
    return out


def entry_from_live(data: dict[str, Any], directory: Directory) -> MetricMonitorEntry:
    return MetricMonitorEntry.model_validate({**common_from_live(data, directory),
                                              **live_fields(data)})


def live_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The metric fields of a detector response, in friendly forms."""
    snuba = data_source(data).get("snubaQuery") or {}
    config = data.get("config") or {}
    entry: dict[str, Any] = {}
    entry.update(aggregate=snuba.get("aggregate") or "", query=snuba.get("query") or "",
                 time_window=format_duration((snuba.get("timeWindow") or 60) / 60))
    dataset = snuba.get("dataset") or "events"
    if dataset != "events":
        entry["dataset"] = dataset
    if snuba.get("environment"):
        entry["environment"] = snuba["environment"]
    event_types = sorted(snuba.get("eventTypes") or [])
    if event_types and event_types != DEFAULT_EVENT_TYPES.get(dataset, []):
        entry["event_types"] = event_types
    if config.get("comparisonDelta"):
        entry["comparison_delta"] = format_duration(config["comparisonDelta"] / 60)
    detection = config.get("detectionType") or "static"
    if detection != ("percent" if config.get("comparisonDelta") else "static"):
        entry["detection_type"] = detection
    conditions = ((data.get("conditionGroup") or {}).get("conditions")) or []
    _thresholds_from_live(conditions, entry)
    return entry


def _thresholds_from_live(conditions: list[dict[str, Any]], entry: dict[str, Any]) -> None:
    triggers: dict[str, Any] = {}
    resolve = None
    for condition in conditions:
        kind, result = condition.get("type"), condition.get("conditionResult")
        if kind == "anomaly_detection":
            comparison = condition.get("comparison") or {}
            entry["sensitivity"] = comparison.get("sensitivity")
            codes = {v: k for k, v in THRESHOLD_CODES.items()}
            threshold = codes.get(int(comparison.get("thresholdType") or 0), "above")
            if threshold != "above":
                entry["threshold_type"] = threshold
        elif result in (75, 50):
            label = "critical" if result == 75 else "warning"
            triggers[label] = {"threshold": number(condition.get("comparison"))}
            if kind in ("lt", "lte"):
                entry["threshold_type"] = "below"
        elif result == 0:
            resolve = number(condition.get("comparison"))
    if triggers:
        entry["triggers"] = triggers
        critical = triggers.get("critical", {}).get("threshold")
        if resolve is not None and resolve != critical:
            entry["resolve_threshold"] = resolve


class MetricMonitorKind(MonitorKind[MetricMonitorEntry]):
    name = "metric_monitor"
    type_tag = "metric"
    entry_model = MetricMonitorEntry
    title = "Metric monitor (`metric_issue` detector, /detectors/): a query and thresholds."
    detector_type = "metric_issue"
    query_alias = "metric"
    payload_of = staticmethod(build_payload)
    canonical_of = staticmethod(canonical)
    entry_of = staticmethod(entry_from_live)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        body = dict(change.payload or {})
        group = body.get("conditionGroup")
        live_group = (change.live or {}).get("conditionGroup") or {}
        if isinstance(group, dict):
            body["conditionGroup"] = keep_condition_ids(group, live_group)
        return ApiRequest("PUT", self.detail(organization, change), json=body)


def keep_condition_ids(group: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """The group with the live group's id and the ids of the live conditions of the same
    priority (and type), so a PUT updates them in place instead of recreating them."""
    unused = [c for c in live.get("conditions") or [] if c.get("id") is not None]
    conditions = []
    for condition in group.get("conditions") or []:
        match = next((c for c in unused if c.get("conditionResult") ==
                      condition.get("conditionResult") and c.get("type") ==
                      condition.get("type")), None) or next(
            (c for c in unused if c.get("conditionResult") ==
             condition.get("conditionResult")), None)
        if match is not None:
            unused.remove(match)
            condition = {**condition, "id": match["id"]}
        conditions.append(condition)
    out = {**group, "conditions": conditions}
    if live.get("id") is not None:
        out["id"] = live["id"]
    return out


register(MetricMonitorKind())
