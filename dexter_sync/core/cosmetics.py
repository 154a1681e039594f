"""Counting what normalization hid: raw differences between what dexter sends and what Sentry
returns for objects the plan calls unchanged.

A quiet plan is only trustworthy when the user can see what was ignored. For every object
whose canonical forms are equal, the request body dexter would send is walked against the
raw live object on the body's keys, and each raw difference is classified:

  order            a list holds the same items in another order
  type             the same number as another type ("80" vs 80, 60 vs 60.0)
  case/whitespace  the same text up to case, surrounding blanks or a `#` prefix
  server-field     a key Sentry adds that dexter never sends (ids, uuids, labels, dates)
  server-default   a key dexter omits and Sentry fills with an empty or default value
  server-omitted   a key dexter sends and Sentry does not echo
  representation   one value written two ways (a name vs an id, minutes vs a duration)

No deepdiff here: this walk runs over every unchanged object, so it must stay cheap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .sources import FieldPath, format_path

SERVER_FIELDS = frozenset({
    "id", "uuid", "name", "label", "dateCreated", "dateModified", "dateAdded", "createdBy",
    "status", "alertRuleId", "alertRuleTriggerId", "lastTriggered", "snooze", "errors",
    "desc", "inputChannelId", "channel_id", "resolution", "detectionType", "includeAllProjects",
    "excludedProjects", "createdAt", "updatedAt", "snoozeForEveryone", "snoozeCreatedBy",
})
_DEFAULT_VALUES = (None, "", 0, [], {}, "all", False)
MAX_DETAILS = 500


@dataclass
class CosmeticTally:
    """Counts by class, and a bounded list of human-readable details for `--explain`."""

    counts: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, cls: str, where: str, sent: Any = None, got: Any = None) -> None:
        self.counts[cls] = self.counts.get(cls, 0) + 1
        if len(self.details) < MAX_DETAILS:
            shown = "" if cls == "order" else f" (sent {_short(sent)}, Sentry has {_short(got)})"
            self.details.append(f"{where}: {cls}{shown}")
        else:
            self.dropped += 1

    def finish(self) -> tuple[dict[str, int], list[str]]:
        details = list(self.details)
        if self.dropped:
            details.append(f"... and {self.dropped} more")
        return dict(sorted(self.counts.items())), details


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _squash(value: Any) -> Any:
    """A loose form that erases every cosmetic difference (used to pair and classify)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    if isinstance(value, str):
        text = value.strip()
        try:
            return round(float(text), 6)
        except ValueError:
            return " ".join(text.lower().lstrip("#").split())
    if isinstance(value, dict):
        return tuple(sorted(
            (k, _squash(v)) for k, v in value.items() if k not in SERVER_FIELDS
        ))
    if isinstance(value, (list, tuple)):
        return tuple(sorted((_squash(v) for v in value), key=repr))
    return repr(value)


def tally_object(address: str, sent: dict[str, Any], live: dict[str, Any],
                 tally: CosmeticTally) -> None:
    """Classify the raw differences of one unchanged object (payload vs live) into `tally`."""
    for key in sent:
        if key not in live:
            if sent[key] not in _DEFAULT_VALUES:
                tally.add("server-omitted", f"{address} {key}", sent[key], None)
            continue
        _walk(sent[key], live[key], (key,), address, tally)


def _walk(sent: Any, got: Any, path: FieldPath, address: str, tally: CosmeticTally) -> None:
    if sent == got and type(sent) is type(got):
        return
    where = f"{address} {format_path(path)}"
    if isinstance(sent, dict) and isinstance(got, dict):
        for key, value in got.items():
            if key not in sent:
                cls = "server-field" if key in SERVER_FIELDS else (
                    "server-default" if value in _DEFAULT_VALUES else "server-field")
                tally.add(cls, f"{where}.{key}", None, value)
        for key, value in sent.items():
            if key in got:
                _walk(value, got[key], path + (key,), address, tally)
            elif value not in _DEFAULT_VALUES:
                tally.add("server-omitted", f"{where}.{key}", value, None)
        return
    if isinstance(sent, list) and isinstance(got, list):
        _walk_list(sent, got, path, address, tally)
        return
    if _squash(sent) == _squash(got):
        if isinstance(sent, str) and isinstance(got, str):
            tally.add("case/whitespace", where, sent, got)
        else:
            tally.add("type", where, sent, got)
        return
    tally.add("representation", where, sent, got)


def _walk_list(sent: list, got: list, path: FieldPath, address: str,
               tally: CosmeticTally) -> None:
    loose_sent = [_squash(v) for v in sent]
    loose_got = [_squash(v) for v in got]
    pairs: list[tuple[int, int]] = []
    if len(sent) == len(got) and sorted(loose_sent, key=repr) == sorted(loose_got, key=repr):
        if loose_sent != loose_got:
            tally.add("order", f"{address} {format_path(path)}")
        taken: set[int] = set()
        for i, loose in enumerate(loose_sent):
            j = next(j for j, other in enumerate(loose_got) if j not in taken and other == loose)
            taken.add(j)
            pairs.append((i, j))
    else:
        pairs = [(i, i) for i in range(min(len(sent), len(got)))]
        if len(sent) != len(got):
            tally.add("representation", f"{address} {format_path(path)}", len(sent), len(got))
    for i, j in pairs:
        _walk(sent[i], got[j], path + (i,), address, tally)
