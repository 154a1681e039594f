"""Kind `discover_query`: a saved Discover query, keyed by name (REFERENCE.md §4).

Sentry stores only the query keys that were sent non-null and returns only those, so an
omitted key is compared as "not managed". `projects` are ids in no order (`[-1]` = all,
written `all` in manifests). `version` defaults to 1 on Sentry's side, so dexter always
sends 2 (v2 is what the Discover UI writes; v1-only keys pass through `raw:`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..core.changes import ResourceChange
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from .fields import UtcDatetime, format_instant, live_instant, matching
from .registry import register

ALL_PROJECTS = -1
PERIOD_PATTERN = r"^\d+[smhdw]?$"  # Sentry's parse_stats_period
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    Period = str
else:
    Period = matching(PERIOD_PATTERN, "a period is a number with an optional unit s, m, h, d or w, like `24h`")
DISPLAY_MODES = ("default", "previous", "top5", "daily", "dailytop5", "bar")
V2_ONLY = ("environment", "query", "y_axis", "display", "top_events", "interval")  # fields
V1_ONLY = ("groupby", "rollup", "aggregations", "conditions", "limit")

# Manifest field -> Sentry key, for the query keys Sentry stores only when non-null.
QUERY_KEYS = {
    "query_dataset": "queryDataset",
    "fields": "fields",
    "query": "query",
    "orderby": "orderby",
    "environment": "environment",
    "range": "range",
    "start": "start",
    "end": "end",
    "y_axis": "yAxis",
    "display": "display",
    "top_events": "topEvents",
    "interval": "interval",
    "widths": "widths",
}
# Response keys Sentry derives or owns; never compared, never exported.
SERVER_KEYS = frozenset({
    "id", "name", "projects", "version", "dateCreated", "dateUpdated", "createdBy",
    "datasetSource", "expired", "exploreQuery", "lastVisited", "visits", "isHomepage",
    "dateAdded", "starred", "position",
})


def _as_list(value: Any) -> Any:
    # Friendly form: a single environment / y-axis may be written as a plain string.
    return [value] if isinstance(value, str) else value


class DiscoverQueryEntry(EntryModel):
    """A saved Discover query (`discover_queries[]`), keyed by name."""

    name: str = Field(min_length=1, max_length=255, description="Query name (its identity in dexter).")
    projects: list[str] | Literal["all"] | None = Field(
        None, description="Project slugs, or `all` for every accessible project (Sentry's `[-1]`).")
    version: Literal[1, 2] = Field(2, description="Discover query version; dexter always sends it (Sentry's default is 1).")
    query_dataset: Literal["error-events", "transaction-like", "discover"] | None = Field(
        None, description="`error-events` (Sentry's default), `transaction-like`; `discover` is deprecated.")
    fields: list[str] | None = Field(None, max_length=20, description="Columns and functions, e.g. `title`, `count()`; version 2 needs at least one.")
    query: str | None = Field(None, description="Search query, e.g. `event.type:error`.")
    orderby: str | None = Field(None, description="A selected field or function; `-` prefix for descending.")
    # `| str`: the single-string form, turned into a list by `_single_string` (kept in the
    # type so the JSON Schema accepts it too).
    environment: list[str] | str | None = Field(None, description="Environment names (a single name is accepted).")
    range: Period | None = Field(None, description="Relative period such as `24h`, `14d` (prefer it to start/end).")
    start: UtcDatetime | None = Field(
        None, description="Absolute start (ISO-8601); with `end`. Sentry returns a start older than its retention clamped, which then shows as a difference: prefer `range`.")
    end: UtcDatetime | None = Field(None, description="Absolute end (ISO-8601); with `start`.")
    y_axis: list[str] | str | None = Field(None, description="Chart series, e.g. `count()` (a single one is accepted).")
    display: Literal["default", "previous", "top5", "daily", "dailytop5", "bar"] | None = Field(
        None, description="Chart display mode.")
    top_events: int | None = Field(None, ge=1, le=10, description="Number of top events charted (1..10).")
    interval: Period | None = Field(None, description="Chart interval such as `1h`.")
    widths: list[str | int] | None = Field(None, description="Column widths (numbers are accepted).")
    raw: dict[str, Any] | None = Field(None, description="Extra Sentry request keys (e.g. version 1 keys), passed through and compared as written.")

    @field_validator("environment", "y_axis", mode="before")
    @classmethod
    def _single_string(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("widths", mode="before")
    @classmethod
    def _width_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("projects", mode="before")
    @classmethod
    def _all_projects(cls, value: Any) -> Any:
        if value == [ALL_PROJECTS] or value == ["all"] or value == ALL_PROJECTS:
            return "all"
        return value

    # Field validators (rather than one model validator) so an error points at the field's
    # own line; `version`, `start` and `range` are declared before the fields they govern.

    @field_validator(*V2_ONLY)
    @classmethod
    def _not_in_version_1(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("version") == 1:
            raise ValueError(f"version 1 queries cannot use {info.field_name} (set version: 2)")
        return value

    @field_validator("fields")
    @classmethod
    def _fields_in_version_2(cls, value: list[str] | None, info: ValidationInfo) -> Any:
        if value is not None and not value and info.data.get("version") == 2:
            raise ValueError("a version 2 query needs at least one field")
        return value

    @field_validator("end")
    @classmethod
    def _time_span(cls, end: datetime | None, info: ValidationInfo) -> Any:
        start = info.data.get("start")
        if end is None:
            return end
        if start is None:
            raise ValueError("start and end go together")
        if info.data.get("range") is not None:
            raise ValueError("give either range or start/end, not both")
        if start >= end:
            raise ValueError("start must be before end")
        return end

    @field_validator("raw")
    @classmethod
    def _raw_keys(cls, raw: dict[str, Any] | None, info: ValidationInfo) -> Any:
        if not raw:
            return raw
        taken = sorted(set(raw) & (set(QUERY_KEYS.values()) | {"name", "projects", "version"}))
        if taken:
            raise ValueError(f"raw repeats modelled fields: {', '.join(taken)}")
        clash = [k for k in V1_ONLY if k in raw]
        if clash and info.data.get("version") == 2:
            raise ValueError(f"version 2 queries cannot use {', '.join(clash)} (version 1 keys)")
        return raw

    @model_validator(mode="after")
    def _whole_entry(self) -> DiscoverQueryEntry:
        if self.version == 2 and self.fields is None:
            raise ValueError("a version 2 query needs at least one field (`fields`)")
        if self.start is not None and self.end is None:
            raise ValueError("start and end go together")
        return self


def _query_path(organization: str, query_id: str | None = None) -> str:
    base = f"organizations/{path_segment(organization)}/discover/saved/"
    return f"{base}{path_segment(query_id)}/" if query_id is not None else base


def _project_id(directory: Directory, slug: str) -> int | str:
    project_id = directory.project_id(slug)
    if project_id is None:
        raise DexterError(f"unknown project {slug!r}", code="unknown-reference")
    return int(project_id) if project_id.isdigit() else project_id


class DiscoverQueryKind(ResourceKind[DiscoverQueryEntry]):
    name = "discover_query"
    section = "discover_queries"
    entry_model = DiscoverQueryEntry
    title = "A saved Discover query."

    def key(self, entry: DiscoverQueryEntry) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data["name"])

    def references(self, entry: DiscoverQueryEntry) -> list[Reference]:
        refs: list[Reference] = []
        if isinstance(entry.projects, list):
            refs += [Reference("project", s, ("projects", i)) for i, s in enumerate(entry.projects)]
        refs += [Reference("environment", e, ("environment", i))
                 for i, e in enumerate(entry.environment or [])]
        return refs

    def build_payload(self, entry: DiscoverQueryEntry, *, directory: Directory) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": entry.name}
        if entry.projects == "all":
            payload["projects"] = [ALL_PROJECTS]
        elif entry.projects is not None:
            ids = {_project_id(directory, s) for s in entry.projects}
            payload["projects"] = sorted(ids, key=lambda i: (isinstance(i, str), i))
        payload["version"] = entry.version
        for field_name, sentry_key in QUERY_KEYS.items():
            value = getattr(entry, field_name)
            if value is None:
                continue
            payload[sentry_key] = format_instant(value) if field_name in ("start", "end") else value
        if entry.raw:
            payload.update(entry.raw)
        return payload

    def canonical(self, entry: DiscoverQueryEntry, *, directory: Directory) -> dict[str, Any]:
        out: dict[str, Any] = {"name": entry.name, "version": entry.version}
        if entry.projects == "all":
            out["projects"] = "all"
        elif entry.projects is not None:
            out["projects"] = sorted(set(entry.projects))
        for field_name in QUERY_KEYS:
            value = getattr(entry, field_name)
            if value is None:
                continue
            if field_name in ("start", "end"):
                value = format_instant(value)
            elif field_name == "environment":
                value = sorted(set(value))  # a filter set: order means nothing
            out[field_name] = value
        for key, value in (entry.raw or {}).items():
            out[f"raw.{key}"] = value
        return out

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> DiscoverQueryEntry:
        values: dict[str, Any] = {"name": str(data["name"])}
        ids = [str(p) for p in data.get("projects") or []]
        if ids == [str(ALL_PROJECTS)]:
            values["projects"] = "all"
        elif ids:
            values["projects"] = sorted(directory.project_slug(i) or i for i in ids)
        values["version"] = 1 if int(data.get("version") or 1) == 1 else 2
        for field_name, sentry_key in QUERY_KEYS.items():
            value = data.get(sentry_key)
            if value is None:
                continue
            if field_name in ("start", "end"):
                value = live_instant(value)
            elif field_name == "widths":
                value = [str(w) for w in value]
            elif field_name == "top_events":
                value = int(value)
            values[field_name] = value
        raw = {k: v for k, v in data.items()
               if k not in SERVER_KEYS and k not in QUERY_KEYS.values() and v is not None}
        values["raw"] = raw or None
        return DiscoverQueryEntry.model_construct(**values)

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        return [ListRequest(ApiRequest("GET", _query_path(ctx.organization), params={"per_page": 100}))]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", _query_path(organization), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        # PUT is a full replace: keep the live query keys the manifest does not manage
        # (column widths set in the UI, say), so an update changes only what was declared.
        body = dict(change.payload or {})
        live = change.live or {}
        for key in QUERY_KEYS.values():
            if key not in body and live.get(key) is not None:
                body[key] = live[key]
        return ApiRequest("PUT", _query_path(organization, _require_id(change)), json=body)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", _query_path(organization, _require_id(change)))


def _require_id(change: ResourceChange) -> str:
    if not change.live_id:
        raise DexterError(f"{change.address}: no live id to address", code="missing-live-id")
    return change.live_id


register(DiscoverQueryKind())
