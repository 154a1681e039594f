"""Fast live-side canonical form of a metric alert: the same dict as
`canonical(entry_from_live(data))`, built straight from Sentry's JSON.

The default path builds a validated entry, its request body, and the canonical dict of that
body. Here every top-level value takes the same conversions in the same order, and a value
the entry model could refuse (wrong type, out of range, unknown label) is not judged here:
the rule goes down the default path instead (`Fallback`), which raises or answers as it
always did. Each action still takes its full round trip (friendly form -> validated model ->
request form -> friendly form), remembered per planning scope (live_memo). Equivalence is
checked by tests/test_kind_live_canonical.py.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from pydantic import TypeAdapter

from ...core.directory import Directory
from ..base import Fallback
from ..fields import (
    check_owner,
    duration_minutes,
    format_duration,
    minutes_in_range,
    number,
    owner_friendly,
    owner_to_sentry,
    payload_number,
)
from ..live_memo import frozen, memoized, sorted_thawed
from .actions import TriggerAction, action_friendly, action_payload
from .model import (
    DATASET_QUERY_TYPE,
    DATASETS,
    DETECTION_TYPES,
    EVENT_TYPES,
    EXTRAPOLATION_MODES,
    SENSITIVITIES,
)
from .kind import (
    QUERY_TYPE_NAMES,
    THRESHOLD_NAMES,
    display_aggregate,
    id_order,
    without_default_priority,
)

_ACTION = TypeAdapter(TriggerAction)
_LIVE = {"live": True}
_ACTION_KEYS = ("type", "targetType", "targetIdentifier", "integrationId", "inputChannelId",
                "priority", "sentryAppId", "sentryAppInstallationUuid", "settings")
_QUERY_TYPE_VALUES = {"error", "performance", "crash_rate"}
_BAD = object()  # an action the entry model refuses: the whole rule takes the default path




def canonical_live(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """canonical(entry_from_live(data)); raises Fallback where that path must decide."""
    name = data.get("name")
    if type(name) is not str or not 1 <= len(name) <= 256 or not name.strip():
        raise Fallback
    aggregate = str(data.get("aggregate") or "")
    query = data.get("query") or ""
    if not aggregate or type(query) is not str:
        raise Fallback
    projects = data.get("projects") or []
    if type(projects) is not list or any(type(p) is not str for p in projects):
        raise Fallback
    projects = sorted(projects)
    dataset = data.get("dataset") or "events"
    if dataset not in DATASETS or type(dataset) is not str:
        raise Fallback
    window = live_duration(data.get("timeWindow") or 1, 1, 1440)  # ValueError: default decides
    threshold_type = THRESHOLD_NAMES.get(_whole(data.get("thresholdType") or 0), "above")
    period = _whole(data.get("thresholdPeriod") or 1)
    if not 1 <= period <= 20:
        raise Fallback
    out: dict[str, Any] = {
        "name": name,
        "projects": projects,
        "aggregate": display_aggregate(aggregate),
        "query": " ".join(query.split()),
        "dataset": dataset,
        "time_window": window,
        "threshold_type": threshold_type,
        "threshold_period": period,
        "detection_type": "",  # filled below; keeps the default path's key order
        "triggers": _triggers(data, directory),
    }
    optional: dict[str, Any] = {}
    for key, field in (("environment", "environment"), ("sensitivity", "sensitivity"),
                       ("seasonality", "seasonality"), ("extrapolationMode", "extrapolation_mode")):
        if data.get(key) is not None:
            optional[field] = data[key]
    for field, allowed in (("sensitivity", SENSITIVITIES),
                           ("extrapolation_mode", EXTRAPOLATION_MODES)):
        if field in optional and (type(optional[field]) is not str
                                  or optional[field] not in allowed):
            raise Fallback
    for field in ("environment", "seasonality"):
        if field in optional and type(optional[field]) is not str:
            raise Fallback
    if data.get("owner"):
        owner = owner_friendly(data["owner"], directory)
        if type(owner) is not str:
            raise Fallback
        owner = checked_owner(owner)  # the model keeps the stripped form
        optional["owner"] = owner_friendly(owner_to_sentry(owner, directory), directory)
    if data.get("resolveThreshold") is not None:
        resolve = number(data["resolveThreshold"])
        if type(resolve) not in (int, float):
            raise Fallback
        optional["resolve_threshold"] = number(payload_number(resolve))
    delta = None
    if data.get("comparisonDelta") is not None:
        delta = live_duration(data["comparisonDelta"], 1, 128160)
        optional["comparison_delta"] = delta
    if type(data.get("description") or "") is not str:
        raise Fallback
    if (data.get("description") or "").strip():
        optional["description"] = data["description"].strip()
    declared = data.get("detectionType")
    derived = "percent" if data.get("comparisonDelta") is not None else "static"
    detection = None
    if declared not in (None, derived):
        if type(declared) is not str or declared not in DETECTION_TYPES:
            raise Fallback
        detection = declared
    out["detection_type"] = "dynamic" if detection == "dynamic" else \
        "percent" if delta is not None else detection or "static"
    query_type = data.get("queryType")
    if query_type is not None and query_type != DATASET_QUERY_TYPE.get(dataset):
        value = QUERY_TYPE_NAMES.get(query_type, query_type)
        if type(value) is not str or value not in _QUERY_TYPE_VALUES:
            raise Fallback
        optional["query_type"] = value
    if data.get("eventTypes") is not None:
        kinds = data["eventTypes"]
        if type(kinds) is not list or any(type(k) is not str or k not in EVENT_TYPES
                                          for k in kinds):
            raise Fallback
        optional["event_types"] = sorted(set(kinds))
    for field in ("environment", "owner", "resolve_threshold", "comparison_delta",
                  "description", "sensitivity", "seasonality", "extrapolation_mode",
                  "query_type", "event_types"):  # the request body's key order
        if field in optional:
            out[field] = optional[field]
    return out


def _triggers(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    found: dict[Any, Any] = {}
    for t in sorted(data.get("triggers") or [], key=lambda t: str(t.get("label"))):
        label = t.get("label")
        threshold = _threshold(t.get("alertThreshold"))
        actions = [_action(a, label, directory)
                   for a in sorted(t.get("actions") or [], key=id_order)]
        found[label] = (threshold, actions)
    if "critical" not in found or not set(found) <= {"critical", "warning"}:
        raise Fallback
    return {label: {"threshold": found[label][0],
                    "actions": sorted_thawed(found[label][1])}
            for label in ("critical", "warning") if label in found}


@functools.lru_cache(maxsize=256, typed=True)  # typed: 5, 5.0 and True stay apart
def _duration_typed(value: Any, low: float, high: float) -> str:
    text = format_duration(float(value))
    minutes_in_range(text, low, high, what="duration")  # the entry model's check
    return format_duration(float(round(duration_minutes(text))))  # request, then canonical


def live_duration(value: Any, low: float, high: float) -> str:
    """A live duration (minutes) as the default path compares it: to the entry's friendly
    spelling (checked against the model's range), to whole request minutes, and back.
    A value the model would judge (out of range, not a number) raises Fallback."""
    try:
        return _duration_typed(value, low, high) if type(value) in (int, float, str) \
            else _duration_uncached(value, low, high)
    except (ValueError, TypeError) as error:
        raise Fallback from error


def checked_owner(owner: str) -> str:
    """`check_owner`, leaving an owner the model refuses to the default path."""
    try:
        checked = check_owner(owner)
    except ValueError as error:
        raise Fallback from error
    assert checked is not None  # None only for None
    return checked


def _whole(value: Any) -> int:
    """int(value) as the default path takes it; what it cannot convert, it decides."""
    try:
        return int(value)
    except (ValueError, TypeError) as error:
        raise Fallback from error


def _duration_uncached(value: Any, low: float, high: float) -> str:
    return _duration_typed.__wrapped__(value, low, high)


@functools.lru_cache(maxsize=256, typed=True)
def _threshold_typed(value: Any) -> Any:
    threshold = number(value)
    if type(threshold) not in (int, float):  # a value the trigger model refuses
        raise Fallback
    return number(payload_number(threshold))


def _threshold(value: Any) -> Any:
    """A live alertThreshold as the default path compares it: entry value (number()),
    request value (payload_number), canonical value (number())."""
    if type(value) in (int, float, str):
        return _threshold_typed(value)
    raise Fallback


def _action(action: dict[str, Any], label: str, directory: Directory) -> tuple[bytes, str]:
    key = ("metric_action", label, repr(tuple(map(action.get, _ACTION_KEYS))))
    result = memoized(key, directory, lambda: _round_trip(action, label, directory))
    if result is _BAD:
        raise Fallback
    return cast("tuple[bytes, str]", result)


def _round_trip(action: dict[str, Any], label: str, directory: Directory) -> Any:
    """What the default path makes of one live action: export form, validated, request
    form, comparison form."""
    friendly = without_default_priority(
        action_friendly(action, label=label, directory=directory), label)
    try:
        model = _ACTION.validate_python(friendly, context=_LIVE)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return _BAD
    return frozen(action_friendly(action_payload(model, directory=directory), label=label,
                                  directory=directory))
