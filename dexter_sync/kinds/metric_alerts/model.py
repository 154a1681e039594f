"""The `metric_alerts` manifest model and the rules Sentry's validator enforces on it.

Fields are the snake_case of Sentry's request keys (REFERENCE §1.1-1.3), with friendly forms:
durations, `threshold_type: above`, `triggers: {critical: {...}, warning: {...}}`, `project:`.
Cross-field rules (threshold sides, dataset windows, detection types) are skipped when the
model is built from a live object (validation context `{"live": True}`): what Sentry already
holds must always be readable, even where today's rules would refuse it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ..base import EntryModel
from ..fields import (
    RAW_DESCRIPTION,
    Duration,
    Owner,
    RuleName,
    minutes_in_range,
    raw_keys,
)
from .actions import TriggerAction

Number = StrictInt | StrictFloat | StrictStr

DATASETS = ("events", "transactions", "generic_metrics", "metrics", "events_analytics_platform")
EVENT_TYPES = ("error", "default", "transaction", "trace_item_span", "trace_item_log",
               "trace_item_metric")
THRESHOLD_TYPES = {"above": 0, "below": 1, "above_and_below": 2}
QUERY_TYPES = {"error": 0, "performance": 1, "crash_rate": 2}
THRESHOLD_NAMES = {v: k for k, v in THRESHOLD_TYPES.items()}
QUERY_TYPE_NAMES = {v: k for k, v in QUERY_TYPES.items()}
DATASET_QUERY_TYPE = {"events": 0, "transactions": 1, "generic_metrics": 1, "metrics": 2,
                      "events_analytics_platform": 1}
CRASH_RATE_WINDOWS = (30, 60, 120, 240, 720, 1440)
DETECTION_TYPES = ("static", "percent", "dynamic")
SENSITIVITIES = ("low", "medium", "high")
EXTRAPOLATION_MODES = ("client_and_server_weighted", "unknown", "server_weighted", "none")

# Top-level request keys the model covers (so `raw:` may not shadow them).
MODELLED_KEYS = {
    "name", "projects", "aggregate", "query", "dataset", "queryType", "eventTypes",
    "timeWindow", "thresholdType", "resolveThreshold", "thresholdPeriod", "comparisonDelta",
    "environment", "owner", "description", "detectionType", "sensitivity", "seasonality",
    "extrapolationMode", "triggers",
}


def _number(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None


def _actions(value: list[Any], info: ValidationInfo) -> list[Any]:
    # Sentry's rule for manifests; a live trigger may have lost actions with an integration
    if not value and not (info.context and info.context.get("live")):
        raise ValueError("each trigger needs at least one action")
    return value


def _numeric(value: Any, info: ValidationInfo) -> Any:
    _number(value, info.field_name or "value")
    return value


# the two trigger forms share their value rules (messages name the field that failed)
Threshold = Annotated[Number, AfterValidator(_numeric)]
TriggerActions = Annotated[list[TriggerAction], AfterValidator(_actions)]


class FriendlyTrigger(EntryModel):
    threshold: Threshold = Field(description="alertThreshold: the value that fires the trigger.")
    actions: TriggerActions = Field(description="At least one action.",
                                    json_schema_extra={"minItems": 1})


class Triggers(EntryModel):
    critical: FriendlyTrigger
    warning: FriendlyTrigger | None = None


class SentryTrigger(EntryModel):
    """Sentry's own trigger form: `{label, alert_threshold, actions}`."""

    id: StrictInt | StrictStr | None = None
    label: Literal["critical", "warning"]
    alert_threshold: Threshold
    actions: TriggerActions = Field(description="At least one action.",
                                    json_schema_extra={"minItems": 1})


def _trigger_form(value: Any) -> str:
    return "list" if isinstance(value, list) else "friendly"


TriggersField = Annotated[
    Annotated[Triggers, Tag("friendly")] | Annotated[list[SentryTrigger], Tag("list")],
    Discriminator(_trigger_form),
]


class MetricAlertEntry(EntryModel):
    """A metric alert rule (organization level; natural key: name)."""

    name: RuleName
    project: str | None = Field(None, description="Project slug (shorthand for `projects`).")
    projects: list[str] | None = Field(None, description="Project slugs (Sentry takes one).")
    aggregate: str = Field(min_length=1, description="e.g. `count()`, `p95(transaction.duration)`.")
    query: str = Field("", description="Search query, e.g. `level:error`; may be empty.")
    dataset: Literal[DATASETS] | None = Field(  # type: ignore[valid-type]
        None, description="Sentry's dataset; `events` when not declared.")
    query_type: Literal["error", "performance", "crash_rate", 0, 1, 2] | None = Field(
        None, description="Derived from the dataset by Sentry; declare only to pin it.")
    event_types: list[Literal[EVENT_TYPES]] | None = Field(  # type: ignore[valid-type]
        None, description="Compared only when Sentry returns them (detail reads).")
    time_window: Duration = Field(description="1m..1d: `5m`, `1h`, or minutes.")
    threshold_type: Literal["above", "below", "above_and_below", 0, 1, 2] = Field(
        "above", description="Fire above or below the thresholds (above_and_below: dynamic).")
    resolve_threshold: Number | None = Field(
        None, description="Resolve when the value crosses back over this.")
    threshold_period: int = Field(1, ge=1, le=20, description="Consecutive windows (1..20).")
    comparison_delta: Duration | None = Field(
        None, description="Percent-change comparison window (1m..89d).")
    environment: str | None = Field(None, description="Environment name; all when absent.")
    owner: Owner | None = Field(None, description="`team:<slug>` or `user:<email>`.")
    description: str | None = Field(None, description="Shown in notifications.")
    detection_type: Literal[DETECTION_TYPES] | None = Field(  # type: ignore[valid-type]
        None, description="`static`; `percent` with comparison_delta; `dynamic` (anomaly).")
    sensitivity: Literal[SENSITIVITIES] | None = Field(  # type: ignore[valid-type]
        None, description="Dynamic rules only.")
    seasonality: str | None = Field(None, description="Dynamic rules only (Sentry uses auto).")
    extrapolation_mode: Literal[EXTRAPOLATION_MODES] | None = None  # type: ignore[valid-type]
    triggers: TriggersField = Field(
        description="`{critical: {threshold, actions}, warning: {...}}` or Sentry's list form.")
    raw: raw_keys(MODELLED_KEYS) = Field(None, description=RAW_DESCRIPTION)  # type: ignore[valid-type]

    @field_validator("time_window")
    @classmethod
    def _window(cls, value: Any) -> Any:
        minutes_in_range(value, 1, 1440, what="time_window")
        return value

    @field_validator("comparison_delta")
    @classmethod
    def _delta(cls, value: Any) -> Any:
        if value is not None:
            minutes_in_range(value, 1, 128160, what="comparison_delta")
        return value

    @field_validator("resolve_threshold")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        if value is not None:
            _number(value, "resolve_threshold")
        return value

    @model_validator(mode="after")
    def _sentry_rules(self, info: ValidationInfo) -> MetricAlertEntry:
        if self.project is not None and self.projects is not None:
            raise ValueError("declare either project or projects, not both")
        if info.context and info.context.get("live"):
            return self
        check_rules(self)
        return self

    # ---- derived values used by payloads and checks ----

    def project_slugs(self) -> list[str]:
        if self.projects is not None:
            return list(self.projects)
        return [self.project] if self.project is not None else []

    def threshold_type_code(self) -> int:
        value = self.threshold_type
        return value if isinstance(value, int) else THRESHOLD_TYPES[value]

    def trigger_list(self) -> list[tuple[str, Any, list[Any]]]:
        """(label, threshold, actions) in Sentry's order: critical, then warning."""
        if isinstance(self.triggers, Triggers):
            out = [("critical", self.triggers.critical.threshold, self.triggers.critical.actions)]
            if self.triggers.warning is not None:
                w = self.triggers.warning
                out.append(("warning", w.threshold, w.actions))
            return out
        return [(t.label, t.alert_threshold, t.actions) for t in self.triggers]

    def effective_detection_type(self) -> str:
        """What Sentry stores: a non-dynamic rule with comparison_delta becomes `percent`."""
        if self.detection_type == "dynamic":
            return "dynamic"
        if self.comparison_delta is not None:
            return "percent"
        return self.detection_type or "static"


def check_rules(entry: MetricAlertEntry) -> None:
    """Sentry's cross-field rules (REFERENCE §1.1, §1.3); raises ValueError with its text."""
    if len(entry.project_slugs()) > 1:
        raise ValueError("a metric alert takes at most one project")
    _check_triggers(entry)
    _check_dataset(entry)
    _check_detection(entry)
    query = entry.query.lower()
    if "release:latest" in query:
        raise ValueError("query may not use release:latest")
    if "project:" in query.replace("_project:", ""):
        raise ValueError("query may not filter on project:; use the projects field")


def _check_triggers(entry: MetricAlertEntry) -> None:
    triggers = entry.trigger_list()
    labels = [label for label, _, _ in triggers]
    if labels not in (["critical"], ["critical", "warning"]):
        raise ValueError("triggers must be a critical trigger, optionally followed by a warning "
                         f"trigger; got {labels}")
    kind = entry.threshold_type_code()
    if kind not in (0, 1):
        return
    # messages show the values as written; comparisons use Sentry's translated values
    raw = {label: float(threshold) for label, threshold, _ in triggers}
    values = {label: _translated(entry, value) for label, value in raw.items()}
    side = "above" if kind == 0 else "below"
    percent = " (compared as percent-change totals, 100 ± x)" \
        if entry.comparison_delta is not None else ""
    if "warning" in values:
        crit, warn = values["critical"], values["warning"]
        if (kind == 0 and crit < warn) or (kind == 1 and crit > warn):
            raise ValueError(f"critical threshold ({raw['critical']:g}) must be at or {side} the "
                             f"warning threshold ({raw['warning']:g}) for threshold_type "
                             f"{side}{percent}")
    if entry.resolve_threshold is None:
        return
    resolve = float(entry.resolve_threshold)
    compared = _translated(entry, resolve) if resolve else resolve  # Sentry: `if resolve:`
    for label, alert in values.items():
        k = 1 if alert.is_integer() and compared.is_integer() else 0
        if (kind == 0 and alert + k <= compared - k) or (kind == 1 and alert - k >= compared + k):
            raise ValueError(f"{label} alert threshold ({raw[label]:g}) must be {side} the "
                             f"resolve threshold ({resolve:g}){percent}")


def _translated(entry: MetricAlertEntry, value: float) -> float:
    """A percent-change threshold as Sentry compares it: the change `x` becomes `100 + x`
    (above) or `100 - x` (below) before any order check (REFERENCE §1.3)."""
    if entry.comparison_delta is None:
        return value
    return 100 + value if entry.threshold_type_code() == 0 else 100 - value


def _check_dataset(entry: MetricAlertEntry) -> None:
    dataset = entry.dataset or "events"
    minutes = entry.time_window
    if dataset == "metrics" and round(minutes) not in CRASH_RATE_WINDOWS:
        raise ValueError("crash-rate alerts (dataset metrics) need time_window one of "
                         "30m, 1h, 2h, 4h, 12h, 1d")
    if dataset == "events_analytics_platform":
        if minutes < 5:
            raise ValueError("dataset events_analytics_platform needs time_window of at least 5m")
        if entry.event_types is not None and len(entry.event_types) > 1:
            raise ValueError("dataset events_analytics_platform takes at most one event type")
    if entry.query_type is not None:
        code = entry.query_type if isinstance(entry.query_type, int) \
            else QUERY_TYPES[entry.query_type]
        if code != DATASET_QUERY_TYPE[dataset]:
            raise ValueError(f"query_type {entry.query_type!r} does not match dataset {dataset!r}")


def _check_detection(entry: MetricAlertEntry) -> None:
    detection = entry.detection_type or "static"
    if entry.threshold_type_code() == 2 and detection != "dynamic":
        raise ValueError("threshold_type above_and_below is only valid for detection_type dynamic")
    if detection == "percent" and entry.comparison_delta is None:
        raise ValueError("detection_type percent requires comparison_delta")
    if detection == "dynamic":
        if entry.sensitivity is None:
            raise ValueError("detection_type dynamic requires sensitivity")
        if "is:unresolved" in entry.query:
            raise ValueError("dynamic alerts may not query is:unresolved")
    elif entry.sensitivity is not None or entry.seasonality is not None:
        raise ValueError("sensitivity and seasonality are only valid for detection_type dynamic")
