"""The comparison form of a metric alert: manifest field names, only what dexter manages.

Desired: the request body becomes the canonical dict (`canonical_body`), so every
normalization is written once: floats vs ints, threshold tolerance,
`count_unique(tags[sentry:user])` shown as `count_unique(user)`, Slack display name vs
channel id, owner ids vs slugs, action order.

Live: Sentry's JSON becomes the same dict directly (`canonical_live`), each value taking the
conversions export and the request body give it. A value the entry model would refuse
(wrong type, out of range, unknown label) is not judged here: it raises `Fallback`, and the
kind reads that rule the way export does, which reports it. tests/test_kind_live_canonical.py
checks the live form against `canonical(entry_from_live(data))` for generated rules.
"""

from __future__ import annotations

import functools
import marshal
import re
from typing import Any

from pydantic import TypeAdapter

from ...core.directory import Directory
from ..base import Fallback
from ..fields import (
    Minutes,
    live_duration,
    live_owner,
    live_rule_name,
    number,
    owner_friendly,
    payload_number,
    sorted_canonical,
)
from .actions import TriggerAction, action_friendly, without_default_priority
from .model import (
    DATASET_QUERY_TYPE,
    DATASETS,
    DETECTION_TYPES,
    EVENT_TYPES,
    EXTRAPOLATION_MODES,
    QUERY_TYPE_NAMES,
    SENSITIVITIES,
    THRESHOLD_NAMES,
)

OPTIONAL = {  # request key -> manifest field, sent only when declared
    "environment": "environment", "owner": "owner", "resolveThreshold": "resolve_threshold",
    "comparisonDelta": "comparison_delta", "description": "description",
    "detectionType": "detection_type", "sensitivity": "sensitivity",
    "seasonality": "seasonality", "extrapolationMode": "extrapolation_mode",
    "queryType": "query_type", "eventTypes": "event_types",
}
_ACTION = TypeAdapter(TriggerAction)
_LIVE = {"live": True}
_QUERY_TYPE_VALUES = {"error", "performance", "crash_rate"}


@functools.lru_cache(maxsize=1024)  # a few aggregates recur across all rules of a plan
def display_aggregate(aggregate: str) -> str:
    """The aggregate as Sentry shows it (REFERENCE §1.5), with insignificant whitespace
    removed, so stored and display forms compare equal: `count_unique(tags[sentry:user])` is
    `count_unique(user)`, `percentage(a, b) AS x` is `percentage(a,b) AS x`."""
    text = " ".join(aggregate.split())
    text = re.sub(r"\s*([(,])\s*", r"\1", text)
    text = re.sub(r"\s*\)", ")", text)
    text = text.replace("tags[sentry:user]", "user")
    return text.replace("upsampled_count()", "count()")


# ---- desired: the request body -----------------------------------------------------------

def canonical_body(body: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """Comparison form of a request body, in manifest field names."""
    out: dict[str, Any] = {
        "name": body.get("name"),
        "projects": sorted(body.get("projects") or []),
        "aggregate": display_aggregate(str(body.get("aggregate") or "")),
        "query": " ".join(str(body.get("query") or "").split()),
        "dataset": body.get("dataset") or "events",
        "time_window": Minutes(body.get("timeWindow") or 0),
        "threshold_type": THRESHOLD_NAMES.get(int(body.get("thresholdType") or 0)),
        "threshold_period": int(body.get("thresholdPeriod") or 1),
        "detection_type": _detection(body),
        "triggers": {
            t.get("label"): {
                "threshold": number(t.get("alertThreshold")),
                "actions": sorted_canonical(
                    action_friendly(a, label=t.get("label"), directory=directory)
                    for a in t.get("actions") or []
                ),
            }
            for t in body.get("triggers") or []
        },
    }
    for key, field in OPTIONAL.items():
        if key in body and key != "detectionType":
            out[field] = body[key]
    if "owner" in out:
        out["owner"] = owner_friendly(out["owner"], directory)
    if "resolve_threshold" in out:
        out["resolve_threshold"] = number(out["resolve_threshold"])
    if out.get("comparison_delta") is not None:
        out["comparison_delta"] = Minutes(out["comparison_delta"])
    if isinstance(out.get("query_type"), int):
        out["query_type"] = QUERY_TYPE_NAMES.get(out["query_type"], out["query_type"])
    if out.get("event_types") is not None:
        out["event_types"] = sorted(set(out["event_types"]))
    if out.get("description") is not None:
        out["description"] = out["description"].strip()
    return out


def _detection(body: dict[str, Any]) -> str:
    declared = body.get("detectionType")
    if declared == "dynamic":
        return "dynamic"
    if body.get("comparisonDelta") is not None:
        return "percent"
    return declared or "static"


# ---- live: Sentry's JSON -------------------------------------------------------------------

def canonical_live(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """The comparison form of a live rule; raises Fallback for a value the model refuses."""
    name = live_rule_name(data.get("name"))
    aggregate = str(data.get("aggregate") or "")
    query = data.get("query") or ""
    if not aggregate or type(query) is not str:
        raise Fallback
    projects = data.get("projects") or []
    if type(projects) is not list or any(type(p) is not str for p in projects):
        raise Fallback
    dataset = data.get("dataset") or "events"
    if type(dataset) is not str or dataset not in DATASETS:
        raise Fallback
    period = _whole(data.get("thresholdPeriod") or 1)
    if not 1 <= period <= 20:
        raise Fallback
    out: dict[str, Any] = {
        "name": name,
        "projects": sorted(projects),
        "aggregate": display_aggregate(aggregate),
        "query": " ".join(query.split()),
        "dataset": dataset,
        "time_window": live_duration(data.get("timeWindow") or 1, 1, 1440),
        "threshold_type": THRESHOLD_NAMES.get(_whole(data.get("thresholdType") or 0), "above"),
        "threshold_period": period,
        "detection_type": "",  # filled below; keeps the request body's key order
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
        optional["owner"] = live_owner(data["owner"], directory)
    if data.get("resolveThreshold") is not None:
        optional["resolve_threshold"] = _threshold(data["resolveThreshold"])
    delta = data.get("comparisonDelta")
    if delta is not None:
        optional["comparison_delta"] = live_duration(delta, 1, 128160)
    description = data.get("description") or ""
    if type(description) is not str:
        raise Fallback
    if description.strip():
        optional["description"] = description.strip()
    out["detection_type"] = _live_detection(data.get("detectionType"), delta)
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
    for field in OPTIONAL.values():  # the request body's key order
        if field in optional:
            out[field] = optional[field]
    return out


def _live_detection(declared: Any, delta: Any) -> str:
    """The detection type export writes (only where it differs from the derived one), then
    the request sends and `_detection` reads."""
    derived = "percent" if delta is not None else "static"
    if declared in (None, derived):
        return derived
    if type(declared) is not str or declared not in DETECTION_TYPES:
        raise Fallback
    return "dynamic" if declared == "dynamic" else "percent" if delta is not None else declared


def _triggers(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    found: dict[Any, Any] = {}
    for t in sorted(data.get("triggers") or [], key=lambda t: str(t.get("label"))):
        label = t.get("label")
        found[label] = {"threshold": _threshold(t.get("alertThreshold")),
                        "actions": sorted_canonical(_action(a, label, directory)
                                                    for a in t.get("actions") or [])}
    if "critical" not in found or not set(found) <= {"critical", "warning"}:
        raise Fallback
    return {label: found[label] for label in ("critical", "warning") if label in found}


def _whole(value: Any) -> int:
    """int(value) as export takes it; what it cannot convert, the model judges."""
    try:
        return int(value)
    except (ValueError, TypeError) as error:
        raise Fallback from error


@functools.lru_cache(maxsize=256, typed=True)  # typed: 5, 5.0 and True stay apart
def _threshold_typed(value: Any) -> Any:
    threshold = number(value)
    if type(threshold) not in (int, float):  # a value the trigger model refuses
        raise Fallback
    return number(payload_number(threshold))


def _threshold(value: Any) -> Any:
    """A live threshold as export (number), the request (payload_number) and the comparison
    (number) take it in turn."""
    if type(value) in (int, float, str):
        return _threshold_typed(value)
    raise Fallback


def _action(action: dict[str, Any], label: str, directory: Directory) -> dict[str, Any]:
    friendly = action_friendly(action, label=label, directory=directory)
    if not _valid_action(marshal.dumps(without_default_priority(friendly, label))):
        raise Fallback
    return friendly


@functools.lru_cache(maxsize=1024)  # a plan's rules repeat the same few actions
def _valid_action(exported: bytes) -> bool:
    """Whether the trigger-action model takes an action's export form (marshal bytes)."""
    try:
        _ACTION.validate_python(marshal.loads(exported), context=_LIVE)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return True
