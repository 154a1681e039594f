"""Discover's fields and functions over the events table (eventtable.py).

A field is a column (`release`, `transaction.duration`), a tag (`tags[browser]`, or any
unknown key) or a function (`count()`, `count_unique(user)`, `avg/min/max/sum(numeric)`,
`p50/p75/p95/p99/p100(numeric)`, the percentiles defaulting to `transaction.duration`).
Errors carry Sentry's texts for invalid queries (InvalidSearchQuery -> 400 `{"detail"}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .eventtable import TABLE


class InvalidQuery(ValueError):
    """Sentry's InvalidSearchQuery / InvalidParams: answered 400 `{"detail": message}`."""


@dataclass(frozen=True)
class Column:
    """A selectable, filterable field: its SQL expression and Discover's result type."""

    name: str
    sql: str
    type: str  # "string", "integer", "number", "duration", "date"
    special: str | None = None  # "project" (slug from id), "issue" (short id from group id)

    @property
    def numeric(self) -> bool:
        return self.type in ("integer", "number", "duration")


@dataclass(frozen=True)
class Function:
    """An aggregate field such as `count()` or `p95(transaction.duration)`."""

    alias: str  # the field as requested: the result key
    name: str
    column: Column | None
    quantile: float | None = None

    @property
    def type(self) -> str:
        if self.name in ("count", "count_unique"):
            return "integer"
        if self.name == "failure_rate":
            return "percentage"
        return "duration" if self.column is not None and self.column.type == "duration" \
            else "number"

    @property
    def unit(self) -> str | None:
        return "millisecond" if self.type == "duration" else None

    def sql(self) -> str | None:
        """The SQL aggregate, or None for percentiles (computed in Python)."""
        if self.name == "count":
            return "COUNT(*)"
        if self.name == "failure_rate":
            return FAILURE_RATE
        assert self.column is not None
        if self.name == "count_unique":
            return f"COUNT(DISTINCT {self.column.sql})"
        if self.quantile is not None:
            return None
        return f"{self.name.upper()}({self.column.sql})"


BUILTIN = {c.name: c for c in [
    Column("id", "event_id", "string"),
    Column("event.type", "type", "string"),
    Column("project.id", "project_id", "integer"),
    Column("project", "project_id", "string", special="project"),
    Column("project.name", "project_id", "string", special="project"),
    Column("issue.id", "group_id", "integer"),
    Column("issue", "group_id", "string", special="issue"),
    Column("title", "title", "string"),
    Column("message", "message", "string"),
    Column("environment", "environment", "string"),
    Column("release", "release", "string"),
    Column("level", "level", "string"),
    Column("platform", "platform", "string"),
    Column("transaction", "txn", "string"),
    Column("user", "user", "string"),
    Column("user.id", "user_id", "string"),
    Column("user.email", "user_email", "string"),
    Column("timestamp", "ts", "date"),
    Column("transaction.duration", "duration", "duration"),
]}
# Sentry counts a transaction as failed unless its status is ok, cancelled or unknown.
FAILURE_RATE = ("AVG(CASE WHEN json_extract(tags, '$.\"transaction.status\"') IN "
                "('ok', 'cancelled', 'unknown') OR json_extract(tags, "
                "'$.\"transaction.status\"') IS NULL THEN 0.0 ELSE 1.0 END)")
PERCENTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p100": 1.0}
NUMERIC_FUNCTIONS = {"avg", "min", "max", "sum"}
FUNCTION_RE = re.compile(r"^(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\((?P<args>[^()]*)\)$")
TAG_RE = re.compile(r"^tags\[(?P<key>[^\]\s,]+)(?:,\s*(?:string|number))?\]$")
KEY_RE = re.compile(r"^[a-zA-Z0-9_.:\-@/]+$")
MAX_FIELDS = 20


def _json_key(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def column(name: str) -> Column:
    """The column a field name means (builtin, measurement or tag); InvalidQuery if none."""
    if name in BUILTIN:
        return BUILTIN[name]
    if name.startswith("measurements.") and KEY_RE.match(name[13:] or "-"):
        path = _json_key(name[13:]).replace("'", "''")
        return Column(name, f"json_extract(measurements, '{path}')", "number")
    tag = TAG_RE.match(name)
    key = tag.group("key") if tag else name
    if not KEY_RE.match(key):
        raise InvalidQuery(f"Invalid tag key {key!r}")  # unverified text
    path = _json_key(key).replace("'", "''")
    return Column(name, f"json_extract(tags, '{path}')", "string")


def is_function(field: str) -> bool:
    return FUNCTION_RE.match(field.strip()) is not None


def function(field: str) -> Function:
    """Resolve `count()`, `p95(transaction.duration)`, ... with Sentry's error texts."""
    match = FUNCTION_RE.match(field.strip())
    if match is None:
        raise InvalidQuery(f"{field} is not a valid function")
    name = match.group("name")
    args = [a.strip() for a in match.group("args").split(",")] if match.group("args").strip() \
        else []
    if name == "count":
        return Function(field, "count", None)
    if name == "failure_rate":
        _arity(field, args, 0, 0)
        return Function(field, name, None)
    if name in PERCENTILES:
        _arity(field, args, 0, 1)
        col = _numeric(field, args[0] if args else "transaction.duration")
        return Function(field, name, col, quantile=PERCENTILES[name])
    if name == "count_unique":
        _arity(field, args, 1, 1)
        return Function(field, name, column(args[0]))
    if name in NUMERIC_FUNCTIONS:
        _arity(field, args, 1, 1)
        return Function(field, name, _numeric(field, args[0]))
    raise InvalidQuery(f"{name} is not a valid function")


def _arity(field: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        expected = str(high) if low == high else f"{low} to {high}"  # range form unverified
        raise InvalidQuery(
            f"{field}: expected {expected} argument(s) but got {len(args)} argument(s)")


def _numeric(field: str, arg: str) -> Column:
    col = column(arg)
    if not col.numeric or col.type == "integer":
        raise InvalidQuery(f"{field}: column argument invalid: {arg} is not a numeric column")
    return col


def alias(field: str) -> str:
    """Sentry's alias of a function field: `p95(transaction.duration)` ->
    `p95_transaction_duration`, `count()` -> `count` (saved queries sort by these)."""
    return re.sub(r"[^\w]", "_", field).strip("_")


def check_field_count(fields: list[str]) -> None:
    if not fields:
        raise InvalidQuery("No columns selected")  # unverified text
    if len(fields) > MAX_FIELDS:
        raise InvalidQuery(f"You can view up to {MAX_FIELDS} fields at a time. "
                           "Please delete some and try again.")


__all__ = ["BUILTIN", "TABLE", "Column", "Function", "InvalidQuery", "alias", "check_field_count",
           "column", "function", "is_function"]
