"""The reader behind release comparison: one release's numbers from Sentry's events table,
and `compare_releases`, the call `dexter releases compare` and the watch daemon share.

    comparison = await compare_releases(facade.gateway, "acme", "1.4.0", "1.5.0",
                                        project="backend")
    if comparison.regression: ...   # comparison.as_dict() is the event's data

Two events-table reads per release (counts by event type; error events by issue), both
filtered with `release:"<version>"` over `period`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.release_compare import CompareSettings, ReleaseComparison, ReleaseNumbers, compare
from .answers import UnexpectedAnswer
from .discover import read_events_table
from .gateway import Gateway

DEFAULT_PERIOD = "90d"


def _quoted(version: str) -> str:
    return '"' + version.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _count(row: dict[str, Any]) -> int:
    value = row.get("count()")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnexpectedAnswer(f"Sentry's events table gave count() = {value!r}, not a number")
    return int(value)


async def read_release_numbers(gateway: Gateway, organization: str, version: str, *,
                               project: str | None = None, environment: str | None = None,
                               period: str = DEFAULT_PERIOD) -> ReleaseNumbers:
    """Events, error events and error events per issue of one release."""
    base: dict[str, Any] = {"statsPeriod": period}
    if project:
        base["project"] = project
    if environment:
        base["environment"] = environment
    release = f"release:{_quoted(version)}"
    by_type, by_issue = await asyncio.gather(
        read_events_table(gateway, organization, {
            **base, "field": ["event.type", "count()"], "query": release}),
        read_events_table(gateway, organization, {
            **base, "field": ["issue", "count()"], "sort": "-count()",
            "query": f"{release} !event.type:transaction"}),
    )
    events = errors = 0
    for row in by_type.rows:
        count = _count(row)
        events += count
        if row.get("event.type") != "transaction":
            errors += count
    issues = {str(row.get("issue")): _count(row) for row in by_issue.rows
              if row.get("issue") not in (None, "", "unknown")}
    return ReleaseNumbers(version=version, events=events, errors=errors, issues=issues)


async def compare_releases(gateway: Gateway, organization: str, base: str, candidate: str, *,
                           project: str | None = None, environment: str | None = None,
                           period: str = DEFAULT_PERIOD,
                           settings: CompareSettings | None = None) -> ReleaseComparison:
    """Read both releases (concurrently) and compare them (`core.release_compare.compare`)."""
    numbers = await asyncio.gather(*(
        read_release_numbers(gateway, organization, version, project=project,
                             environment=environment, period=period)
        for version in (base, candidate)))
    return compare(numbers[0], numbers[1], settings)
