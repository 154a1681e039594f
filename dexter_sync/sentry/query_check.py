"""`dexter validate --online`: ask Sentry to run every declared Discover query and every
metric alert's query (one row each), so that a query Sentry would reject fails validation
with Sentry's own message at the manifest's file:line, before any apply.

The queries run concurrently under the gateway's limits; only a 400 (Sentry refusing the
query) is a finding, any other failure is an error of the run.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from ..core.diagnostics import Diagnostic
from ..core.discover_query import DiscoverQuery, from_metric_alert, from_saved_entry
from ..core.sources import FieldPath
from ..core.state import DesiredResource, DesiredState
from .discover import rejection
from .gateway import Gateway

CODE = "rejected-query"
SESSION_DATASETS = frozenset({"metrics"})
"""Crash-rate alerts query sessions, not events: the events endpoints cannot run them."""
# Which declared field a rejection points at, per kind: the search string for parse errors
# and filters, the selected fields (or the alert's aggregate) for function and field errors.
QUERY_PATH: FieldPath = ("query",)
FIELD_PATHS = {"discover_query": ("fields",), "metric_alert": ("aggregate",)}


def queries_to_check(desired: DesiredState) -> list[tuple[DesiredResource, DiscoverQuery]]:
    found = []
    for resource in desired.resources:
        entry: Any = resource.entry
        if resource.kind == "discover_query":
            found.append((resource, from_saved_entry(entry)))
        elif resource.kind == "metric_alert" and (entry.dataset or "events") not in \
                SESSION_DATASETS:
            found.append((resource, from_metric_alert(entry)))
    return found


def _path_of(resource: DesiredResource, query: DiscoverQuery, message: str) -> FieldPath:
    fields_path: FieldPath = FIELD_PATHS[resource.kind]
    if any(f.split("(")[0] in message for f in query.fields if f) and \
            not message.startswith("Parse error"):
        return fields_path
    if message.startswith("Cannot sort"):
        return ("orderby",)
    return QUERY_PATH if query.query else fields_path


@dataclass
class OnlineCheck:
    checked: int
    skipped: int
    """Crash-rate (sessions) alerts, which the events endpoints cannot run."""
    problems: list[Diagnostic]


async def check_queries(gateway: Gateway, organization: str, desired: DesiredState
                        ) -> OnlineCheck:
    """Run every query once; a Diagnostic per query Sentry rejects."""
    checks = queries_to_check(desired)
    skipped = sum(1 for r in desired.of_kind("metric_alert")
                  if (getattr(r.entry, "dataset", None) or "events") in SESSION_DATASETS)
    answers = await asyncio.gather(*(rejection(gateway, organization, q) for _, q in checks))
    problems = []
    for (resource, query), message in zip(checks, answers, strict=True):
        if message is None:
            continue
        path = _path_of(resource, query, message)
        problems.append(Diagnostic(
            CODE, f"Sentry rejects the query of {resource.kind} {resource.key!r}: {message}",
            span=resource.span_for(path), path=path))
    return OnlineCheck(len(checks), skipped, problems)
