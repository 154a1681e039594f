"""Reading Sentry's Discover events endpoints: the table (`organizations/{org}/events/`,
paginated by `Link` cursors) and the time series (`organizations/{org}/events-timeseries/`).

Answers are checked before use (fail closed): a table is `{"data": [objects], "meta": {...}}`
and a series `{"timeSeries": [...]}`; anything else is a `sentry-unexpected-answer` error, never an
empty result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.discover_query import DiscoverQuery
from ..core.requests import ApiRequest, path_segment
from .answers import UnexpectedAnswer
from .errors import BadRequest, SentryError
from .gateway import Gateway
from .links import next_cursor

MAX_ROWS = 10_000
"""Rows a table read follows cursors for, at most (Discover is not an export)."""


@dataclass
class EventsTable:
    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    truncated: bool = False
    """More rows existed beyond what was read."""


@dataclass
class TimeSeries:
    y_axis: str
    points: list[tuple[int, float]]
    """(epoch ms, value) per bucket."""
    meta: dict[str, Any] = field(default_factory=dict)


def _bad(what: str, body: Any) -> UnexpectedAnswer:
    return UnexpectedAnswer(f"Sentry answered the {what} with {type(body).__name__}, not the "
                       "documented object")


async def read_events_table(gateway: Gateway, organization: str, params: dict[str, Any], *,
                            max_rows: int = MAX_ROWS, per_page: int = 100) -> EventsTable:
    """Rows of an events-table query, following `Link` cursors up to `max_rows` (the table
    is an object, not a list, so this walks the cursors itself rather than `pages`)."""
    path = f"organizations/{path_segment(organization)}/events/"
    page_params = {**params, "per_page": min(per_page, max(max_rows, 1))}
    rows: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    seen: set[str] = set()
    while True:
        response = await gateway.request(ApiRequest("GET", path, params=page_params))
        body = response.body
        if not (isinstance(body, dict) and isinstance(body.get("data"), list)
                and isinstance(body.get("meta", {}), dict)
                and all(isinstance(r, dict) for r in body["data"])):
            raise _bad("events table", body)
        meta = meta or body.get("meta") or {}
        rows += body["data"]
        if len(rows) >= max_rows:
            return EventsTable(rows[:max_rows], meta, truncated=len(rows) > max_rows or
                               next_cursor(response.headers.get("link")) is not None)
        cursor = next_cursor(response.headers.get("link"))
        if cursor is None:
            return EventsTable(rows, meta)
        if cursor in seen:
            raise SentryError(f"Sentry repeated the cursor {cursor!r} for GET /api/0/{path}; "
                              "stopping pagination", code="sentry-pagination")
        seen.add(cursor)
        page_params = {**page_params, "cursor": cursor}


async def read_timeseries(gateway: Gateway, organization: str, params: dict[str, Any]
                          ) -> list[TimeSeries]:
    """One TimeSeries per y-axis of an events-timeseries query."""
    request = ApiRequest("GET", f"organizations/{path_segment(organization)}/events-timeseries/",
                         params=params)
    body = (await gateway.request(request)).body
    if not (isinstance(body, dict) and isinstance(body.get("timeSeries"), list)):
        raise _bad("events time series", body)
    series = []
    for item in body["timeSeries"]:
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, list) or not all(
                isinstance(v, dict) and isinstance(v.get("timestamp"), (int, float))
                for v in values):
            raise _bad("events time series", item)
        points = [(int(v["timestamp"]), float(v.get("value") or 0)) for v in values]
        series.append(TimeSeries(str(item.get("yAxis", "")), points, item.get("meta") or {}))
    return series


def _frozen(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


async def run_table(gateway: Gateway, organization: str, query: DiscoverQuery, *,
                    limit: int = 100) -> EventsTable:
    """The query's table (up to `limit` rows), through the gateway's TTL cache."""
    params = query.table_params()

    async def load() -> dict[str, Any]:
        table = await read_events_table(gateway, organization, params, max_rows=limit)
        return {"rows": table.rows, "meta": table.meta, "truncated": table.truncated}

    found = await gateway.cache.get_or_load(
        ("discover-table", organization, _frozen(params), limit), load)
    return EventsTable(rows=found["rows"], meta=found["meta"], truncated=found["truncated"])


async def run_series(gateway: Gateway, organization: str, query: DiscoverQuery
                     ) -> list[TimeSeries]:
    """The query's time series (its y-axes), through the gateway's TTL cache."""
    params = query.series_params()

    async def load() -> list[dict[str, Any]]:
        return [{"y_axis": s.y_axis, "points": s.points, "meta": s.meta}
                for s in await read_timeseries(gateway, organization, params)]

    found = await gateway.cache.get_or_load(("discover-series", organization, _frozen(params)),
                                            load)
    return [TimeSeries(s["y_axis"], [(int(t), float(v)) for t, v in s["points"]], s["meta"])
            for s in found]


async def rejection(gateway: Gateway, organization: str, query: DiscoverQuery) -> str | None:
    """Sentry's message when it refuses to run `query` (asked for one row), else None."""
    request = ApiRequest("GET", f"organizations/{path_segment(organization)}/events/",
                         params={**query.table_params(), "per_page": 1})
    try:
        await gateway.request(request)
    except BadRequest as error:
        body = error.body
        if isinstance(body, dict) and isinstance(body.get("detail"), str):
            return str(body["detail"])
        return error.detail
    return None
