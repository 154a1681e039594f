"""A Discover query to run: what `dexter query` and `dexter validate --online` send to
Sentry's events endpoints, built from a manifest entry, a saved query or the command line.

Pure values: the sentry package turns one into request parameters and reads the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .sources import FieldPath, SourceSpan

# Discover's saved-query dataset -> the events endpoint's `dataset`
SAVED_DATASETS = {"error-events": "errors", "transaction-like": "transactions",
                  "discover": "discover"}
# A metric alert's dataset -> the events endpoint's `dataset`
ALERT_DATASETS = {"events": "errors", "transactions": "transactions",
                  "generic_metrics": "transactions", "metrics": "discover",
                  "events_analytics_platform": "discover"}
DEFAULT_PERIOD = "24h"


@dataclass(frozen=True)
class DiscoverQuery:
    fields: tuple[str, ...]
    query: str = ""
    sort: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    """Project slugs or ids (the events endpoints take either); empty = all."""
    environments: tuple[str, ...] = ()
    period: str | None = DEFAULT_PERIOD
    start: str | None = None
    end: str | None = None
    dataset: str | None = None
    y_axis: tuple[str, ...] = ()
    interval: str | None = None
    name: str | None = None
    spans: dict[FieldPath, SourceSpan] = field(default_factory=dict, compare=False)
    """Where the manifest declares each part (for errors with file:line)."""
    span: SourceSpan | None = field(default=None, compare=False)

    def common_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.start and self.end:
            params.update(start=self.start, end=self.end)
        elif self.period:
            params["statsPeriod"] = self.period
        if self.projects:
            params["project"] = list(self.projects)
        if self.environments:
            params["environment"] = list(self.environments)
        if self.query:
            params["query"] = self.query
        if self.dataset:
            params["dataset"] = self.dataset
        return params

    def table_params(self) -> dict[str, Any]:
        params = {"field": list(self.fields), **self.common_params()}
        if self.sort:
            params["sort"] = list(self.sort)
        return params

    def series_params(self) -> dict[str, Any]:
        functions = [f for f in self.fields if f.endswith(")")]
        y_axis = list(self.y_axis) or functions[:1] or ["count()"]
        params = {"yAxis": y_axis, **self.common_params()}
        if self.interval:
            params["interval"] = self.interval
        return params

    def with_period(self, period: str | None) -> DiscoverQuery:
        return self if period is None else replace(self, period=period, start=None, end=None)

    def span_for(self, path: FieldPath) -> SourceSpan | None:
        return self.spans.get(path) or self.span


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def from_saved_entry(entry: Any, *, spans: dict[FieldPath, SourceSpan] | None = None,
                     span: SourceSpan | None = None) -> DiscoverQuery:
    """From a `discover_queries[]` manifest entry (kinds/discover_queries.py)."""
    projects = () if entry.projects in (None, "all") else _strings(entry.projects)
    orderby = entry.orderby
    return DiscoverQuery(
        name=entry.name, fields=_strings(entry.fields) or ("count()",),
        query=entry.query or "", sort=(orderby,) if orderby else (), projects=projects,
        environments=_strings(entry.environment), period=entry.range or (
            None if entry.start else DEFAULT_PERIOD),
        start=_instant(entry.start), end=_instant(entry.end),
        dataset=SAVED_DATASETS.get(entry.query_dataset or "", None),
        y_axis=_strings(entry.y_axis), interval=entry.interval, spans=dict(spans or {}),
        span=span)


def from_saved_body(body: dict[str, Any]) -> DiscoverQuery:
    """From a saved query as Sentry returns it (REFERENCE.md §4)."""
    projects = body.get("projects") or []
    orderby = body.get("orderby")
    return DiscoverQuery(
        name=str(body.get("name")), fields=_strings(body.get("fields")) or ("count()",),
        query=str(body.get("query") or ""), sort=(str(orderby),) if orderby else (),
        projects=() if projects == [-1] else _strings(projects),
        environments=_strings(body.get("environment")),
        period=body.get("range") or (None if body.get("start") else DEFAULT_PERIOD),
        start=body.get("start"), end=body.get("end"),
        dataset=SAVED_DATASETS.get(str(body.get("queryDataset") or ""), None),
        y_axis=_strings(body.get("yAxis")), interval=body.get("interval"))


def from_metric_alert(entry: Any, *, spans: dict[FieldPath, SourceSpan] | None = None,
                      span: SourceSpan | None = None) -> DiscoverQuery:
    """The events query a metric alert runs: its aggregate over its query (one row)."""
    return DiscoverQuery(
        name=entry.name, fields=(entry.aggregate,), query=entry.query or "",
        projects=tuple(entry.project_slugs()), environments=_strings(entry.environment),
        dataset=ALERT_DATASETS.get(entry.dataset or "events", "discover"),
        spans=dict(spans or {}), span=span)


def _instant(value: Any) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text.replace("+00:00", "")
