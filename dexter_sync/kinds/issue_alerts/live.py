"""Fast live-side canonical form of an issue alert: the same dict as
`canonical(entry_from_live(data))`, built straight from Sentry's JSON.

Top-level values take the default path's conversions in the same order; a value the entry
model could refuse raises `Fallback` and the rule goes down the default path (which also
handles a rule whose nodes need Sentry's own form). Each node still takes its full round
trip (export form -> validated node -> request node -> comparison form), remembered per
planning scope (live_memo). Equivalence is checked by tests/test_kind_live_canonical.py.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import TypeAdapter

from ...core.directory import Directory
from ..base import Fallback
from ..fields import owner_friendly, owner_to_sentry
from .model import MATCHES, ActionItem, ConditionItem, FilterItem
from .nodes import node_friendly
from .kind import DEFAULT_FREQUENCY, DEFAULT_MATCH, LIST_OF_ROLE, node_payload
from ..live_memo import frozen, memoized, sorted_thawed
from ..metric_alerts.live import checked_owner, live_duration

_ITEMS = {"conditions": TypeAdapter(ConditionItem), "filters": TypeAdapter(FilterItem),
          "actions": TypeAdapter(ActionItem)}
_LIVE = {"live": True}
_KEPT_OUT = ("name", "uuid")  # server labels node_friendly never reads
_BAD = object()


def canonical_live(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """canonical(entry_from_live(data)); raises Fallback where that path must decide."""
    name = data.get("name")
    if type(name) is not str or not 1 <= len(name) <= 256 or not name.strip():
        raise Fallback
    projects = data.get("projects") or []
    project = projects[0] if projects else ""
    if type(project) is not str or not project:
        raise Fallback
    # entry spelling checked against the model's 5m..30d, request minutes, canonical form
    frequency = live_duration(data.get("frequency") or DEFAULT_FREQUENCY, 5, 43200)
    matches = []
    for key in ("actionMatch", "filterMatch"):
        value = data.get(key) or DEFAULT_MATCH
        if type(value) is not str or value not in MATCHES:
            raise Fallback
        matches.append(value)
    split: dict[str, list[Any]] = {"conditions": [], "filters": [], "actions": []}
    for list_name in split:
        for node in data.get(list_name) or []:
            role, friendly = _node(node, list_name, directory)
            split[LIST_OF_ROLE[role] if role else list_name].append(friendly)
    out: dict[str, Any] = {
        "name": name,
        "action_match": matches[0],
        "filter_match": matches[1],
        "frequency": frequency,
        **{list_name: sorted_thawed(nodes) for list_name, nodes in split.items()},
    }
    if data.get("environment") is not None:
        if type(data["environment"]) is not str:
            raise Fallback
        out["environment"] = data["environment"]
    if data.get("owner"):
        owner = owner_friendly(data["owner"], directory)
        if type(owner) is not str:
            raise Fallback
        owner = checked_owner(owner)  # the model keeps the stripped form
        out["owner"] = owner_friendly(owner_to_sentry(owner, directory), directory)
    out["project"] = project
    return out


def _node(node: dict[str, Any], list_name: str, directory: Directory
          ) -> tuple[Any, tuple[bytes, str]]:
    kept = dict(node)
    for label in _KEPT_OUT:
        kept.pop(label, None)
    key = ("issue_node", list_name, repr(kept))
    result = memoized(key, directory, lambda: _round_trip(node, list_name, directory))
    if result is _BAD:
        raise Fallback
    return cast("tuple[Any, tuple[bytes, str]]", result)


def _round_trip(node: dict[str, Any], list_name: str, directory: Directory) -> Any:
    """What the default path makes of one live node: export form, validated, request node,
    comparison form."""
    exported = node_friendly(node, directory, defaults=False)[1]
    try:
        model = _ITEMS[list_name].validate_python(exported, context=_LIVE)
    except ValueError:  # pydantic's ValidationError; the default path then uses Sentry's form
        return _BAD
    role, friendly = node_friendly(node_payload(model, directory=directory), directory)
    return role, frozen(friendly)
