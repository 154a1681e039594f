"""State-change dedup: an event once per change of state, never once per cycle.

`ChangeTracker.update(current)` takes this cycle's `{key: signature}` and answers what
appeared, what changed signature and what is gone since the last accepted update. A source
that could not read this cycle simply does not call `update`, so an outage never looks like
"everything resolved".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Changes(Generic[K]):
    appeared: list[K]
    changed: list[K]
    gone: list[K]


@dataclass
class ChangeTracker(Generic[K]):
    known: dict[K, str] = field(default_factory=dict)
    primed: bool = False
    """False until the first update: `prime()` lets a source start from the current state
    without reporting it (issues that existed before the daemon started are not new)."""

    def update(self, current: Mapping[K, str]) -> Changes[K]:
        appeared = [k for k in current if k not in self.known]
        changed = [k for k in current if k in self.known and self.known[k] != current[k]]
        gone = [k for k in self.known if k not in current]
        self.known = dict(current)
        self.primed = True
        return Changes(appeared, changed, gone)

    def prime(self, current: Mapping[K, str]) -> None:
        self.known = dict(current)
        self.primed = True
