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

No deepdiff here: this walk runs over every unchanged object, so it must stay cheap (list
items are paired by their scalar fields, not by deep comparison).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any, cast

from .sources import FieldPath, format_path

SERVER_FIELDS = frozenset({
    "id", "uuid", "name", "label", "dateCreated", "dateModified", "dateAdded", "createdBy",
    "status", "alertRuleId", "alertRuleTriggerId", "lastTriggered", "snooze", "errors",
    "desc", "inputChannelId", "channel_id", "resolution", "detectionType", "includeAllProjects",
    "excludedProjects", "createdAt", "updatedAt", "snoozeForEveryone", "snoozeCreatedBy",
})
_DEFAULT_VALUES: tuple[Any, ...] = (None, "", 0, [], {}, "all", False)
MAX_DETAILS = 500
# what else than a digit may start a text float() reads ("-1.5", ".5", "inf", "NaN")
_NUMBER_STARTS = frozenset("+-.iInN")


Finding = tuple[str, FieldPath, Any, Any]
"""(class, path, sent value, live value): one raw difference of one object"""


@dataclass
class CosmeticTally:
    """Counts by class, and a bounded list of details for `--explain`.

    Details are kept raw (class, address, path, values) and formatted only when shown:
    most plans never print them, and formatting dominated the walk's cost.
    """

    counts: dict[str, int] = field(default_factory=dict)
    raw: list[tuple[str, str, FieldPath, Any, Any]] = field(default_factory=list)
    dropped: int = 0

    def add(self, cls: str, address: str, path: FieldPath, sent: Any = None,
            got: Any = None) -> None:
        self.counts[cls] = self.counts.get(cls, 0) + 1
        if len(self.raw) < MAX_DETAILS:
            self.raw.append((cls, address, path, sent, got))
        else:
            self.dropped += 1

    def add_all(self, address: str, found: list[Finding]) -> None:
        """`add` for each of one object's findings, in one pass (the walk's hot path)."""
        counts = self.counts
        for finding in found:
            cls = finding[0]
            counts[cls] = counts.get(cls, 0) + 1
        room = max(MAX_DETAILS - len(self.raw), 0)
        self.raw.extend((cls, address, path, sent, got)
                        for cls, path, sent, got in found[:room])
        self.dropped += max(len(found) - room, 0)

    def finish(self) -> tuple[dict[str, int], list[str]]:
        details = [_detail(*item) for item in self.raw]
        if self.dropped:
            details.append(f"... and {self.dropped} more")
        return dict(sorted(self.counts.items())), details


def _detail(cls: str, address: str, path: FieldPath, sent: Any, got: Any) -> str:
    where = f"{address} {format_path(path)}"
    if cls == "order":
        return f"{where}: order"
    return f"{where}: {cls} (sent {_short(sent)}, Sentry has {_short(got)})"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _loose(value: Any) -> Any:
    """A scalar with every cosmetic difference erased ("80" ~ 80 ~ 80.0, " Prod" ~ "prod")."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 6)
    if isinstance(value, str):
        return _loose_text(value)
    return value


@functools.lru_cache(maxsize=4096)  # node ids, labels and targets recur across objects
def _loose_text(value: str) -> Any:
    text = value.strip()
    head = text[:1]
    # float() is tried only where it can succeed: a raised ValueError costs much
    if head in _NUMBER_STARTS or head.isdigit():
        try:
            return round(float(text), 6)
        except ValueError:
            pass
    return " ".join(text.lower().lstrip("#").split())


def _same(a: Any, b: Any) -> bool:
    return cast("bool", a == b or _loose(a) == _loose(b))


def _matches(sent: Any, got: Any) -> bool:
    """Whether a live list item is the counterpart of a sent one: equal on the sent item's
    scalar fields, loosely (nested lists and keys the live item lacks do not decide)."""
    if isinstance(sent, dict):
        if not isinstance(got, dict):
            return False
        for key, value in sent.items():
            if key in got and not isinstance(value, (dict, list)) \
                    and not _same(value, got[key]):
                return False
        return True
    if isinstance(sent, list):
        return isinstance(got, list)
    return _same(sent, got)


def tally_object(address: str, sent: dict[str, Any], live: dict[str, Any],
                 tally: CosmeticTally) -> None:
    """Classify the raw differences of one unchanged object (payload vs live) into `tally`."""
    found: list[Finding] = []
    for key, value in sent.items():
        if key not in live:
            if value not in _DEFAULT_VALUES:
                found.append(("server-omitted", (key,), value, None))
            continue
        other = live[key]
        if value != other or type(value) is not type(other):  # most top-level keys agree
            _walk(value, other, (key,), found)
    if found:
        tally.add_all(address, found)


def _walk(sent: Any, got: Any, path: FieldPath, found: list[Finding]) -> None:
    if sent == got and type(sent) is type(got):
        return
    if isinstance(sent, dict) and isinstance(got, dict):
        for key, value in got.items():
            if key not in sent:
                cls = "server-field" if key in SERVER_FIELDS else (
                    "server-default" if value in _DEFAULT_VALUES else "server-field")
                found.append((cls, path + (key,), None, value))
        for key, value in sent.items():
            if key in got:
                other = got[key]
                if value != other or type(value) is not type(other):
                    _walk(value, other, path + (key,), found)
            elif value not in _DEFAULT_VALUES:
                found.append(("server-omitted", path + (key,), value, None))
        return
    if isinstance(sent, list) and isinstance(got, list):
        _walk_list(sent, got, path, found)
        return
    if isinstance(sent, (dict, list)) or isinstance(got, (dict, list)):
        found.append(("representation", path, sent, got))
    elif _loose(sent) == _loose(got):
        cls = "case/whitespace" if isinstance(sent, str) and isinstance(got, str) else "type"
        found.append((cls, path, sent, got))
    else:
        found.append(("representation", path, sent, got))


def _walk_list(sent: list[Any], got: list[Any], path: FieldPath, found: list[Finding]) -> None:
    if len(sent) != len(got):
        found.append(("representation", path, len(sent), len(got)))
        pairs = [(i, i) for i in range(min(len(sent), len(got)))]
    else:
        pairs = _pair(sent, got)
        if any(i != j for i, j in pairs):
            found.append(("order", path, None, None))
    for i, j in pairs:
        if sent[i] != got[j] or type(sent[i]) is not type(got[j]):
            _walk(sent[i], got[j], path + (i,), found)


def _pair(sent: list[Any], got: list[Any]) -> list[tuple[int, int]]:
    """Each sent item with its live counterpart: same place first, else the first free item
    that matches, else the first free one."""
    free = list(range(len(got)))
    pairs = []
    for i, item in enumerate(sent):
        if len(free) == 1:  # the last free item is taken whether it matches or not
            j = free[0]
        elif i in free and _matches(item, got[i]):
            j = i
        else:  # (the same place, tried above, is not tried again)
            j = next((f for f in free if f != i and _matches(item, got[f])), free[0])
        free.remove(j)
        pairs.append((i, j))
    return pairs
