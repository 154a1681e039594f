"""Workflow conditions (REFERENCE-workflows.md §2.5): the manifest forms and their one
comparison form.

A condition is written as
  - its type alone, for conditions whose comparison is `true` (`first_seen_event`),
  - `{<type>: <comparison>}` (`{level: {level: error, match: gte}}`), or
  - Sentry's own `{type, comparison, condition_result}`.
Comparison keys may be snake_case or camelCase (Sentry answers camelCase); levels may be
named (`error`) or numbered (40).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from ..fields import camelize, snakify

TRIGGER_TYPES = (
    "first_seen_event", "regression_event", "reappeared_event", "issue_resolved_trigger",
    "new_high_priority_issue", "existing_high_priority_issue", "seer_activity_trigger",
    "every_event", "event_seen_count", "event_created_by_detector", "issue_resolution_change")
FILTER_TYPES = (
    "age_comparison", "assigned_to", "issue_category", "issue_type", "issue_occurrences",
    "issue_priority_deescalating", "issue_priority_greater_or_equal", "issue_priority_equals",
    "event_frequency_count", "event_unique_user_frequency_count", "event_frequency_percent",
    "event_unique_user_frequency_percent", "percent_sessions_count", "percent_sessions_percent",
    "event_attribute", "tagged_event", "latest_release", "latest_adopted_release", "level",
    "issue_open_duration", "eq", "gte", "gt", "lte", "lt", "ne")
LEVELS = {"sample": 0, "debug": 10, "info": 20, "warning": 30, "error": 40, "fatal": 50}
_SENTRY_KEYS = {"type", "comparison", "condition_result", "conditionResult", "id"}


def _level(comparison: Any) -> Any:
    if isinstance(comparison, dict) and isinstance(comparison.get("level"), str):
        name = comparison["level"].lower()
        if name not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)} or a number, "
                             f"got {comparison['level']!r}")
        return {**comparison, "level": LEVELS[name]}
    return comparison


def condition_form(value: Any, allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    """`{type, comparison, conditionResult}` (camelCase comparison keys) for one condition."""
    result: Any = True
    if isinstance(value, str):
        kind, comparison = value, True
    elif isinstance(value, dict) and "type" in value:
        unknown = set(value) - _SENTRY_KEYS
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} in a {what}")
        if "comparison" not in value:
            raise ValueError(f"a {what} in Sentry's form needs `comparison`")
        kind, comparison = value["type"], value["comparison"]
        result = value.get("condition_result", value.get("conditionResult", True))
    elif isinstance(value, dict) and len(value) == 1:
        kind, comparison = next(iter(value.items()))
    else:
        raise ValueError(f"a {what} is a type name, `{{type: comparison}}` or Sentry's "
                         f"`{{type, comparison, condition_result}}`, got {value!r}")
    if kind not in allowed:
        raise ValueError(f"unknown {what} type {kind!r}; valid: {', '.join(allowed)}")
    if kind == "level":
        comparison = _level(comparison)
    return {"type": kind, "comparison": camelize(comparison), "conditionResult": result}


def _trigger(value: Any) -> Any:
    condition_form(value, TRIGGER_TYPES, "trigger")
    return value


def _filter(value: Any) -> Any:
    condition_form(value, FILTER_TYPES, "filter")
    return value


Trigger = Annotated[str | dict[str, Any], AfterValidator(_trigger)]
Filter = Annotated[str | dict[str, Any], AfterValidator(_filter)]


def condition_friendly(data: dict[str, Any]) -> Any:
    """The shortest manifest form of a condition (request body or live)."""
    kind, comparison = data.get("type"), data.get("comparison")
    result = data.get("conditionResult", True)
    if result is not True:
        return {"type": kind, "comparison": snakify(comparison), "condition_result": result}
    if comparison is True:
        return kind
    return {kind: snakify(comparison)}


def condition_canonical(data: dict[str, Any]) -> dict[str, Any]:
    """Comparison form: type, camelCase comparison, result (ids and extra keys left out)."""
    comparison = data.get("comparison")
    if data.get("type") == "level":
        comparison = _level(comparison)
    return {"type": data.get("type"), "comparison": camelize(comparison),
            "result": data.get("conditionResult", True)}
