"""What core needs of a resource kind: a `Protocol`, and a catalog of kinds passed in.

Core stands below the kinds: it never imports them. The caller (the CLI, a test, a
benchmark) hands the planner, the reference checks and the safety gates a `KindCatalog`
built from the registry (`dexter_sync.kinds.registry.catalog()`), so a new kind changes
nothing here. `dexter_sync.kinds.base.ResourceKind` implements this protocol and documents
each hook's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .changes import ResourceChange, SafetyFinding
from .diagnostics import DexterError
from .directory import Directory
from .sources import FieldPath

ReferenceKind = Literal[
    "project", "team", "member", "integration", "environment", "repository", "slack_channel",
    "issue", "monitor"
]


@dataclass(frozen=True)
class Reference:
    """A name in a manifest that must exist in the live organization (checked at plan time)."""

    kind: ReferenceKind
    name: str
    path: FieldPath
    provider: str | None = None
    """For integration references: the provider key the integration must have."""
    scope: str | None = None
    """For slack channels: the Slack integration (name or id) the channel belongs to."""


class KindContract(Protocol):
    """The part of a resource kind that core calls (entries are the kind's own models)."""

    @property
    def name(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def scope(self) -> Literal["organization", "project"]: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...
    @property
    def prunable(self) -> bool: ...
    @property
    def updatable(self) -> bool: ...
    @property
    def child_of(self) -> str | None: ...
    @property
    def live_optional_fields(self) -> tuple[str, ...]: ...
    @property
    def canonical_reuses_payload(self) -> bool: ...
    @property
    def provides_reference(self) -> ReferenceKind | None: ...
    @property
    def replaced_by(self) -> tuple[str, ...]: ...

    def references(self, entry: Any) -> list[Reference]: ...
    def build_payload(self, entry: Any, *, directory: Directory) -> dict[str, Any]: ...
    def canonical(self, entry: Any, *, directory: Directory) -> dict[str, Any]: ...
    def canonical_from_payload(self, entry: Any, payload: dict[str, Any], *,
                               directory: Directory) -> dict[str, Any]: ...
    def canonical_live(self, data: dict[str, Any], *,
                       directory: Directory) -> dict[str, Any]: ...
    def safety_findings(self, change: ResourceChange) -> list[SafetyFinding]: ...


class KindCatalog:
    """The kinds of one run, by name, with the order their changes apply in."""

    def __init__(self, kinds: Iterable[KindContract]) -> None:
        self._kinds: dict[str, KindContract] = {}
        for kind in kinds:
            self._kinds[kind.name] = kind
        self._order = _dependency_order(self._kinds)

    def __iter__(self) -> Iterator[KindContract]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def get(self, name: str) -> KindContract:
        try:
            return self._kinds[name]
        except KeyError:
            raise DexterError(f"unknown kind {name!r}; known: {', '.join(sorted(self._kinds))}",
                              code="unknown-kind") from None

    def apply_order(self) -> list[str]:
        """Kind names topologically sorted by `depends_on` (dependencies first)."""
        return list(self._order)


def _dependency_order(kinds: dict[str, KindContract]) -> list[str]:
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise DexterError(f"kind dependency cycle through {name!r}", code="kind-cycle")
        visiting.add(name)
        for dep in kinds[name].depends_on:
            visit(dep)
        visiting.discard(name)
        ordered.append(name)

    for name in kinds:
        visit(name)
    return ordered
