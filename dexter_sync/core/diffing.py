"""Field-level diffs of canonical objects: the only module that imports deepdiff.

Callers get `FieldChange(path, before, after)` in manifest field names, never deepdiff's
`root['x'][0]` strings (STYLE.md, anti-patterns). Equal objects never reach deepdiff: a plain
`==` answers first, which keeps a plan of thousands of unchanged objects cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .changes import FieldChange
from .sources import FieldPath

# deepdiff report types, in the order a reader expects them (changed, then added, removed).
_REPORTS = (
    "values_changed",
    "type_changes",
    "dictionary_item_added",
    "iterable_item_added",
    "dictionary_item_removed",
    "iterable_item_removed",
    "set_item_added",
    "set_item_removed",
)


def restrict(live: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The live canonical object cut down to the top-level keys the desired one holds.

    Only the top level: a nested key the manifest dropped (a warning trigger removed) is a
    real difference, while a top-level field the manifest never declared is unmanaged.
    """
    return {k: live.get(k) for k in desired}


def _value(value: Any) -> Any:
    from deepdiff.helper import NotPresent  # loaded by diff_fields already

    return None if isinstance(value, NotPresent) else value


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """Differences from `before` (live) to `after` (desired), sorted by path.

    Numbers compare by value (60 == 60.0), as `==` does, so the fast path and deepdiff agree.
    """
    if before == after:
        return ()
    # deepdiff costs ~45 ms of start-up: a quiet plan (the common CI case) never loads it
    from deepdiff import DeepDiff

    found = DeepDiff(
        dict(before), dict(after), view="tree", ignore_numeric_type_changes=True,
        verbose_level=2,
    )
    changes: list[FieldChange] = []
    for report in _REPORTS:
        for level in found.get(report, ()):
            path: FieldPath = tuple(level.path(output_format="list"))
            changes.append(FieldChange(path, _value(level.t1), _value(level.t2)))
    changes.sort(key=lambda c: _path_sort_key(c.path))
    return tuple(changes)


def _path_sort_key(path: FieldPath) -> tuple[tuple[int, str | int], ...]:
    # ints and strings never compare directly: tag each part with its type
    return tuple((0, p) if isinstance(p, int) else (1, str(p)) for p in path)
