"""Dependency-ordered waves: which changes may run together, and in which order.

Creates and updates run first, kinds in dependency order (repositories before code mappings,
releases before deploys); kinds at the same depth share a wave and run concurrently. Deletes
follow, dependents first (a code mapping is deleted before its repository). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ..core.changes import Action, ResourceChange
from ..core.diagnostics import DexterError

Phase = Literal["write", "delete"]


@dataclass(frozen=True)
class Wave:
    phase: Phase
    depth: int
    """Dependency depth of the wave's kinds (0 = depends on nothing)."""
    changes: tuple[ResourceChange, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.kind for c in self.changes))


def kind_depths(depends_on: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Depth of every kind: 0 without dependencies, else one more than its deepest dependency."""
    depths: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(name: str) -> int:
        if name in depths:
            return depths[name]
        if name in visiting:
            raise DexterError(f"kind dependency cycle through {name!r}", code="kind-cycle")
        visiting.add(name)
        deps = depends_on.get(name, ())
        value = 1 + max(depth(d) for d in deps) if deps else 0
        visiting.discard(name)
        depths[name] = value
        return value

    for name in depends_on:
        depth(name)
    return depths


def registry_dependencies() -> dict[str, tuple[str, ...]]:
    """`depends_on` of every registered kind (the registry is the single source of order)."""
    from ..kinds.registry import all_kinds  # late: keeps this module importable without kinds

    return {k.name: tuple(k.depends_on) for k in all_kinds()}


def plan_waves(
    changes: Iterable[ResourceChange],
    *,
    depends_on: Mapping[str, Sequence[str]] | None = None,
) -> list[Wave]:
    """Split a plan's changes into waves; no-ops are dropped, plan order is kept inside a wave."""
    deps = registry_dependencies() if depends_on is None else dict(depends_on)
    depths = kind_depths(deps)
    writes: dict[int, list[ResourceChange]] = {}
    deletes: dict[int, list[ResourceChange]] = {}
    for change in changes:
        if change.action is Action.NOOP:
            continue
        # A kind the registry does not know has no known dependencies: run it first.
        depth = depths.get(change.kind, 0)
        bucket = deletes if change.action is Action.DELETE else writes
        bucket.setdefault(depth, []).append(change)
    waves = [Wave("write", d, tuple(writes[d])) for d in sorted(writes)]
    waves += [Wave("delete", d, tuple(deletes[d])) for d in sorted(deletes, reverse=True)]
    return waves
