"""Running Discover queries over the events table: the table (grouped when any function is
selected, as Discover groups by every other field) and the time series.

SQL does the filtering, grouping and every aggregate it has (count, count_unique, avg, min,
max, sum); percentiles are computed in Python from the sorted values of each group, with
linear interpolation between the closest ranks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import eventrollup
from .discover_fields import (
    Column,
    Function,
    InvalidQuery,
    alias,
    column,
    function,
    is_function,
)
from .discover_search import Compiled
from .eventtable import TABLE, TIME_INDEX, ensure_table
from .store import Store

DATASETS = {"discover": None, "errors": "type != 'transaction'",
            "transactions": "type = 'transaction'"}


@dataclass
class Scope:
    """Who and when: the organization, projects, environments, period and dataset."""

    org: str
    project_ids: list[int]
    start_ms: int
    end_ms: int
    environments: list[str] = field(default_factory=list)
    dataset: str = "discover"

    def where(self, query: Compiled, *, start: int | None = None, end: int | None = None,
              time: str = "ts") -> tuple[str, list[Any]]:
        """The WHERE clause over `time` in `[start, end)` (default: the scope's period)."""
        sql = f" WHERE org = ? AND {time} >= ? AND {time} < ? AND project_id IN " \
              f"({', '.join('?' * len(self.project_ids))})"
        args: list[Any] = [self.org, self.start_ms if start is None else start,
                           self.end_ms if end is None else end, *self.project_ids]
        if self.environments:
            sql += f" AND environment IN ({', '.join('?' * len(self.environments))})"
            args += self.environments
        if DATASETS.get(self.dataset):
            sql += f" AND {DATASETS[self.dataset]}"
        if query.sql != "1":
            sql += f" AND ({query.sql})"
            args += query.args
        return sql, args


@dataclass
class Names:
    """Display names the table shows for ids: project slugs and issue short ids."""

    project: Callable[[int], str | None]
    issue: Callable[[int], str | None]


Selected = Column | Function


def resolve_fields(fields: list[str]) -> list[Selected]:
    return [function(f) if is_function(f) else column(f) for f in fields]


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks of sorted `values` (numpy's default)."""
    if not values:
        return 0.0
    pos = q * (len(values) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return values[low] + (values[high] - values[low]) * (pos - low)


def _execute(store: Store, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
    ensure_table(store)
    with store.connection() as db:
        return db.execute(sql, args).fetchall()


def _percentiles(store: Store, scope: Scope, query: Compiled, keys: list[str],
                 functions: list[Function]) -> dict[tuple[Any, ...], dict[str, float]]:
    """Per group key: the value of each percentile function. (Ranking in SQLite with window
    functions measured four times slower than sorting each group's values here.)"""
    out: dict[tuple[Any, ...], dict[str, float]] = defaultdict(dict)
    where, args = scope.where(query)
    for fn in functions:
        assert fn.column is not None and fn.quantile is not None
        select = ", ".join([*keys, fn.column.sql]) if keys else fn.column.sql
        rows = _execute(store, f"SELECT {select} FROM {TABLE}{where} AND {fn.column.sql} "
                               f"IS NOT NULL", args)
        groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
        for row in rows:
            groups[tuple(row[:-1])].append(float(row[-1]))
        for key, values in groups.items():
            values.sort()
            out[key][fn.alias] = quantile(values, fn.quantile)
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if value is not None else (1, 0)


def table(store: Store, scope: Scope, fields: list[str], query: Compiled, *,
          sort: list[str], offset: int, limit: int, names: Names
          ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of the table (`limit` rows from `offset`) and its `meta`."""
    selected = resolve_fields(fields)
    by_alias = {alias(f): f for f in fields if is_function(f)}
    sort = [("-" if key.startswith("-") else "") + by_alias.get(key.lstrip("-"), key.lstrip("-"))
            for key in sort]
    for key in sort:
        if key.lstrip("-") not in fields:
            raise InvalidQuery("Cannot sort by a field that is not selected.")
    meta = _meta(selected)
    if any(isinstance(s, Function) for s in selected):
        rows = _grouped(store, scope, selected, query)
        for key in reversed(sort):
            name = key.lstrip("-")
            rows.sort(key=lambda r: _sort_key(r[name]), reverse=key.startswith("-"))
        page = rows[offset:offset + limit]
    else:
        page = _raw(store, scope, [s for s in selected if isinstance(s, Column)], query,
                    sort=sort, offset=offset, limit=limit)
    return [_display(row, selected, names) for row in page], meta


def _rollup_counts(store: Store, scope: Scope, keys: list[str], query: Compiled
                   ) -> list[tuple[Any, ...]] | None:
    """Grouped counts from the hourly rollup plus the partial hours at both ends, when the
    whole query lies within the rollup's dimensions; else None."""
    hours = eventrollup.hour_split(scope.start_ms, scope.end_ms)
    if hours is None or not set(keys) | query.columns <= eventrollup.DIMENSIONS:
        return None
    group = f" GROUP BY {', '.join(keys)}" if keys else ""
    select = ", ".join([*keys, "{}"])
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    # the partial hours are short ranges: read them by time (without the hint SQLite, with
    # no statistics, prefers an index in group order and scans every event of the org)
    by_time = f"{TABLE} INDEXED BY {TIME_INDEX}"
    parts = [(by_time, "COUNT(*)", "ts", scope.start_ms, hours[0]),
             (eventrollup.ROLLUP, "SUM(n)", "hour", hours[0], hours[1]),
             (by_time, "COUNT(*)", "ts", hours[1], scope.end_ms)]
    for table_name, count, time_column, start, end in parts:
        where, args = scope.where(query, start=start, end=end, time=time_column)
        sql = f"SELECT {select.format(count)} FROM {table_name}{where}{group}"
        for row in _execute(store, sql, args):
            totals[tuple(row[:-1])] += int(row[-1] or 0)
    return [(*key, n) for key, n in totals.items() if n or not keys]


def _grouped(store: Store, scope: Scope, selected: list[Selected], query: Compiled
             ) -> list[dict[str, Any]]:
    columns = [s for s in selected if isinstance(s, Column)]
    functions = [s for s in selected if isinstance(s, Function)]
    keys = list(dict.fromkeys(c.sql for c in columns))
    sql_functions = [f for f in functions if f.sql() is not None]
    found = None
    if all(f.name == "count" for f in functions):
        counts = _rollup_counts(store, scope, keys, query)
        found = None if counts is None else [(*row[:-1], *([row[-1]] * len(functions)))
                                             for row in counts]
    if found is None:
        select = [*keys, *(f.sql() or "" for f in sql_functions)] or ["COUNT(*)"]
        where, args = scope.where(query)
        sql = f"SELECT {', '.join(select)} FROM {TABLE}{where}"
        if keys:
            sql += f" GROUP BY {', '.join(keys)}"
        found = _execute(store, sql, args)
    if not keys and found and found[0][0] is None and len(sql_functions) == 0:
        found = []
    percentiles = _percentiles(store, scope, query, keys,
                               [f for f in functions if f.sql() is None])
    rows = []
    for row in found:
        key = tuple(row[:len(keys)])
        values = dict(zip(keys, key, strict=True))
        out: dict[str, Any] = {c.name: values[c.sql] for c in columns}
        for fn, value in zip(sql_functions, row[len(keys):], strict=False):
            out[fn.alias] = value if value is not None or fn.name == "count" else None
        for fn in functions:
            if fn.sql() is None:
                out[fn.alias] = percentiles.get(key, {}).get(fn.alias)
        rows.append(out)
    if not keys and not rows:
        rows = [{f.alias: 0 if f.type == "integer" else None for f in functions}]
    return rows


def _raw(store: Store, scope: Scope, columns: list[Column], query: Compiled, *,
         sort: list[str], offset: int, limit: int) -> list[dict[str, Any]]:
    where, args = scope.where(query)
    by_name = {c.name: c for c in columns}
    order = [f"{by_name[k.lstrip('-')].sql} {'DESC' if k.startswith('-') else 'ASC'}"
             for k in sort] or ["ts DESC"]
    sql = (f"SELECT {', '.join(c.sql for c in columns)} FROM {TABLE}{where} "
           f"ORDER BY {', '.join(order)}, id DESC LIMIT ? OFFSET ?")
    return [dict(zip([c.name for c in columns], row, strict=True))
            for row in _execute(store, sql, [*args, limit, offset])]


def _display(row: dict[str, Any], selected: list[Selected], names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in selected:
        value = row.get(s.name if isinstance(s, Column) else s.alias)
        if isinstance(s, Column) and value is not None:
            if s.special == "project":
                value = names.project(int(value))
            elif s.special == "issue":
                value = names.issue(int(value)) or "unknown"
            elif s.type == "date":
                value = iso_ms(int(value))
        elif isinstance(s, Function) and value is not None and s.type != "integer":
            value = float(value)
        out[s.name if isinstance(s, Column) else s.alias] = value
    return out


def _meta(selected: list[Selected]) -> dict[str, Any]:
    fields = {(s.name if isinstance(s, Column) else s.alias): s.type for s in selected}
    units = {(s.name if isinstance(s, Column) else s.alias):
             ("millisecond" if s.type == "duration" else None) for s in selected}
    return {"fields": fields, "units": units, "isMetricsData": False,
            "isMetricsExtractedData": False, "tips": {}, "datasetReason": "unchanged",
            "dataset": "discover"}


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def timeseries(store: Store, scope: Scope, y_axes: list[str], query: Compiled, *,
               interval_ms: int) -> list[dict[str, Any]]:
    """One series per y-axis: zero-filled buckets aligned to the interval, start to end."""
    functions = [function(y) for y in y_axes]
    first = scope.start_ms // interval_ms * interval_ms
    last = scope.end_ms // interval_ms * interval_ms
    buckets = list(range(first, last + 1, interval_ms))
    bucket_sql = f"(ts / {int(interval_ms)}) * {int(interval_ms)}"
    values: dict[str, dict[int, Any]] = {f.alias: {} for f in functions}
    sql_functions = [f for f in functions if f.sql() is not None]
    where, args = scope.where(query)
    if sql_functions:
        rows = _execute(store, f"SELECT {bucket_sql}, "
                               f"{', '.join(f.sql() or '' for f in sql_functions)} "
                               f"FROM {TABLE}{where} GROUP BY 1", args)
        for row in rows:
            for fn, value in zip(sql_functions, row[1:], strict=True):
                values[fn.alias][int(row[0])] = value
    percentiles = _percentiles(store, scope, query, [bucket_sql],
                               [f for f in functions if f.sql() is None])
    for key, found in percentiles.items():
        for name, value in found.items():
            values[name][int(key[0])] = value
    series = []
    for fn in functions:
        points = [{"timestamp": b, "value": _point(values[fn.alias].get(b), fn),
                   "incomplete": False} for b in buckets]
        series.append({"yAxis": fn.alias, "values": points, "meta": {
            "valueType": fn.type, "valueUnit": fn.unit, "interval": interval_ms}})
    return series


def _point(value: Any, fn: Function) -> float | int:
    if value is None:
        return 0
    return int(value) if fn.type == "integer" else float(value)
