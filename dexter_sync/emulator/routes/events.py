"""Discover's events endpoints over the events table: the table
`GET /organizations/{org}/events/` and the time series
`GET /organizations/{org}/events-timeseries/`.

Parameters as Sentry reads them: `field` (repeatable, at most 20), `query`, `sort`
(a selected field, `-` for descending), `project` (ids or slugs; `-1` or none = all),
`environment`, `statsPeriod` or `start`+`end` (default 90 days, unverified), `dataset`
(`discover`, `errors`, `transactions`), `per_page`/`cursor` (Sentry's GenericOffsetPaginator:
cursor `0:<row offset>:<is_prev>`); the series adds `yAxis` (repeatable, default `count()`)
and `interval` (`1h`, `5m`, ...; default 1h). An invalid query answers 400 `{"detail": ...}`
with Sentry's text.
"""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import NO_PERMISSION, ApiError, json_response, multi_param, org_of, store_of
from ..discover_engine import DATASETS, Names, Scope, table, timeseries
from ..discover_fields import InvalidQuery, check_field_count
from ..discover_search import Compiled, compile_query, parse_instant_ms
from ..pagination import Cursor, link_header, parse_cursor, parse_per_page
from ..store import Store

PERIOD = re.compile(r"^(\d+)([smhdw]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DEFAULT_PERIOD_S = 90 * 86400
MAX_BUCKETS = 10_000
NO_PROJECTS_TIPS = {"query": "Need at least one valid project to query."}


def parse_period(text: str) -> int | None:
    """Seconds of a stats period (`24h`, `14d`, `30m`, a bare number is seconds)."""
    match = PERIOD.match(text.strip())
    return int(match.group(1)) * UNITS[match.group(2)] if match else None


def _range_ms(request: Request) -> tuple[int, int]:
    params = request.query_params
    now = int(time.time() * 1000)
    if params.get("statsPeriod"):
        seconds = parse_period(params["statsPeriod"])
        if seconds is None:
            raise InvalidQuery(f"Invalid statsPeriod: {params['statsPeriod']!r}")  # unverified
        return now - seconds * 1000, now
    if params.get("start") or params.get("end"):
        if not (params.get("start") and params.get("end")):
            raise InvalidQuery("start and end are both required")
        start, end = parse_instant_ms(params["start"]), parse_instant_ms(params["end"])
        if start > end:
            raise InvalidQuery("start must be before end")
        return start, end
    return now - DEFAULT_PERIOD_S * 1000, now


def _projects(store: Store, org: dict[str, Any], refs: list[str]) -> list[dict[str, Any]]:
    projects = store.snapshot("project", org["id"])
    if not refs or refs == ["-1"]:
        return list(projects)
    chosen = []
    for ref in refs:
        found = [p for p in projects if str(p["id"]) == ref or p["slug"] == ref]
        if not found:
            raise ApiError(403, NO_PERMISSION)
        chosen += found
    return chosen


def _issue_resolver(store: Store, org: dict[str, Any]) -> tuple[Any, Any]:
    """(short id -> group id, group id -> short id), reading issues only when asked."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def issues() -> list[dict[str, Any]]:
        if "rows" not in cache:
            cache["rows"] = store.query("issue", org["id"])
        return cache["rows"]

    def by_short(short: str) -> int | None:
        return next((i["id"] for i in issues() if i["shortId"] == short), None)

    def by_id(group: int) -> str | None:
        return next((i["shortId"] for i in issues() if i["id"] == group), None)

    return by_short, by_id


def _scope_and_query(request: Request) -> tuple[Scope | None, Compiled, Names]:
    org, store = org_of(request), store_of(request)
    projects = _projects(store, org, multi_param(request, "project"))
    by_short, by_id = _issue_resolver(store, org)
    slugs = {p["id"]: p["slug"] for p in store.snapshot("project", org["id"])}
    names = Names(project=slugs.get, issue=by_id)
    dataset = request.query_params.get("dataset") or "discover"
    if dataset not in DATASETS:
        raise InvalidQuery(f"dataset must be one of: {', '.join(sorted(DATASETS))}")
    start, end = _range_ms(request)
    by_slug = {p["slug"]: p["id"] for p in projects}
    query = compile_query(request.query_params.get("query", ""),
                          project=lambda slug: by_slug.get(slug), issue=by_short)
    if not projects:
        return None, query, names
    scope = Scope(org=str(org["id"]), project_ids=[p["id"] for p in projects],
                  start_ms=start, end_ms=end, environments=multi_param(request, "environment"),
                  dataset=dataset)
    return scope, query, names


def _invalid(error: InvalidQuery) -> ApiError:
    return ApiError(400, {"detail": str(error)})


async def events_table(request: Request) -> Response:
    fields = multi_param(request, "field")
    try:
        check_field_count(fields)
        scope, query, names = _scope_and_query(request)
        per_page = parse_per_page(request)
        cursor = parse_cursor(request) or Cursor(0, 0, False)
        offset = max(cursor.offset, 0)
        sort = multi_param(request, "sort") or multi_param(request, "orderby")
        if scope is None:
            return json_response({"data": [], "meta": {"tips": NO_PROJECTS_TIPS}})
        rows, meta = table(store_of(request), scope, fields, query, sort=sort, offset=offset,
                           limit=per_page + 1, names=names)
    except InvalidQuery as error:
        raise _invalid(error) from None
    has_next = len(rows) > per_page
    link = link_header(request, (Cursor(0, max(offset - per_page, 0), True), offset > 0),
                       (Cursor(0, offset + per_page, False), has_next))
    return json_response({"data": rows[:per_page], "meta": meta}, headers={"Link": link})


async def events_timeseries(request: Request) -> Response:
    y_axes = multi_param(request, "yAxis") or ["count()"]
    try:
        scope, query, _ = _scope_and_query(request)
        interval_text = request.query_params.get("interval") or "1h"
        seconds = parse_period(interval_text)
        if not seconds:
            raise InvalidQuery("Interval could not be parsed")
        if scope is None:
            return json_response({"timeSeries": []})
        interval_ms = seconds * 1000
        if (scope.end_ms - scope.start_ms) // interval_ms > MAX_BUCKETS:
            raise InvalidQuery("Your interval and date range would create too many results. "
                               "Use a larger interval, or a smaller date range.")  # unverified
        series = timeseries(store_of(request), scope, y_axes, query, interval_ms=interval_ms)
    except InvalidQuery as error:
        raise _invalid(error) from None
    return json_response({"timeSeries": series, "meta": {
        "dataset": scope.dataset, "start": scope.start_ms, "end": scope.end_ms}})


ROUTES = [
    ("/organizations/{org}/events/", ["GET"], events_table),
    ("/organizations/{org}/events-timeseries/", ["GET"], events_timeseries),
]
