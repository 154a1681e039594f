"""The comparison form of an issue alert: manifest field names, only what dexter manages.

Desired: the request body's nodes become friendly nodes (`node_friendly`), sorted
(conditions, filters and actions are order-free for what a rule does), with conditions and
filters re-split by class the way Sentry splits them on output; `frequency`, `filterMatch`
and `actionMatch` defaults filled in (`canonical_body`).

Live: Sentry's JSON becomes the same dict directly (`canonical_live`), through the same
`node_friendly`. A value the entry model would refuse (a node no friendly form takes, an
unknown match) raises `Fallback`, and the kind reads that rule the way export does (which
keeps such nodes in Sentry's form, or reports the value). tests/test_kind_live_canonical.py
checks the live form against `canonical(entry_from_live(data))` for generated rules.
"""

from __future__ import annotations

import functools
import marshal
from typing import Any

from pydantic import TypeAdapter

from ...core.directory import Directory
from ..base import Fallback
from ..fields import (
    Minutes,
    live_duration,
    live_owner,
    live_rule_name,
    owner_friendly,
    sorted_canonical,
)
from .model import MATCHES, ActionItem, ConditionItem, FilterItem
from .nodes import node_forms

DEFAULT_FREQUENCY = 30
DEFAULT_MATCH = "all"
LIST_OF_ROLE = {"condition": "conditions", "filter": "filters", "action": "actions"}
_ITEMS = {"conditions": TypeAdapter(ConditionItem), "filters": TypeAdapter(FilterItem),
          "actions": TypeAdapter(ActionItem)}
_LIVE = {"live": True}


def _split(body: dict[str, Any], directory: Directory, *, live: bool) -> dict[str, list[Any]]:
    """Friendly nodes by the list their class belongs to, each list sorted."""
    split: dict[str, list[Any]] = {"conditions": [], "filters": [], "actions": []}
    for list_name in split:
        for node in body.get(list_name) or []:
            role, friendly, exported = node_forms(node, directory)
            if live and not _valid_node(list_name, marshal.dumps(exported)):
                raise Fallback  # the node model refuses the export form
            split[LIST_OF_ROLE[role] if role else list_name].append(friendly)
    return {name: sorted_canonical(nodes) for name, nodes in split.items()}


def canonical_body(body: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """Comparison form of a request body, in manifest field names (the project apart)."""
    out: dict[str, Any] = {
        "name": body.get("name"),
        "action_match": body.get("actionMatch") or DEFAULT_MATCH,
        "filter_match": body.get("filterMatch") or DEFAULT_MATCH,
        "frequency": Minutes(body.get("frequency") or DEFAULT_FREQUENCY),
        **_split(body, directory, live=False),
    }
    if "environment" in body:
        out["environment"] = body["environment"]
    if "owner" in body:
        out["owner"] = owner_friendly(body["owner"], directory)
    return out


def canonical_live(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """The comparison form of a live rule; raises Fallback for a value the model refuses."""
    name = live_rule_name(data.get("name"))
    projects = data.get("projects") or []
    project = projects[0] if projects else ""
    if type(project) is not str or not project:
        raise Fallback
    matches = []
    for key in ("actionMatch", "filterMatch"):
        value = data.get(key) or DEFAULT_MATCH
        if type(value) is not str or value not in MATCHES:
            raise Fallback
        matches.append(value)
    out: dict[str, Any] = {
        "name": name,
        "action_match": matches[0],
        "filter_match": matches[1],
        "frequency": live_duration(data.get("frequency") or DEFAULT_FREQUENCY, 5, 43200),
        **_split(data, directory, live=True),
    }
    if data.get("environment") is not None:
        if type(data["environment"]) is not str:
            raise Fallback
        out["environment"] = data["environment"]
    if data.get("owner"):
        out["owner"] = live_owner(data["owner"], directory)
    out["project"] = project
    return out


@functools.lru_cache(maxsize=1024)  # a plan's rules repeat the same few nodes
def _valid_node(list_name: str, exported: bytes) -> bool:
    """Whether the list's node model takes a node's export form (marshal bytes)."""
    try:
        _ITEMS[list_name].validate_python(marshal.loads(exported), context=_LIVE)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return True
