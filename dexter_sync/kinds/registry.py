"""The registry of resource kinds. Adding a kind: write its module, add one line here.

Each kind module ends with `register(MyKind())`; registering a name twice is refused and
says which module registered it first (octoDNS's Record.register_type habit).

`KIND_MODULES` also names the manifest section each module's kind lives in, so the loader
lists sections and imports only the kinds of the sections a manifest uses (start-up of
`dexter validate`); `register` refuses a kind whose section the table misstates.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..core.codes import ErrorCode
from ..core.contract import KindCatalog
from ..core.diagnostics import DexterError
from .base import ResourceKind

_KINDS: dict[str, ResourceKind[Any]] = {}
_ORIGIN: dict[str, str] = {}
_IMPORTED: set[str | None] = set()
"""Sections whose kind modules were imported (None: every module)."""

# module -> the section its kind's entries live in. Order matters only for display; apply
# order comes from `depends_on`.
KIND_MODULES: dict[str, str] = {
    "dexter_sync.kinds.metric_alerts.kind": "metric_alerts",
    "dexter_sync.kinds.issue_alerts.kind": "issue_alerts",
    "dexter_sync.kinds.discover_queries": "discover_queries",
    "dexter_sync.kinds.releases": "releases",
    "dexter_sync.kinds.deploys": "releases",
    "dexter_sync.kinds.repositories": "integration_links",
    "dexter_sync.kinds.code_mappings": "integration_links",
    "dexter_sync.kinds.external_issue_links": "integration_links",
    "dexter_sync.kinds.monitors.metric": "monitors",
    "dexter_sync.kinds.monitors.uptime": "monitors",
    "dexter_sync.kinds.monitors.cron": "monitors",
    "dexter_sync.kinds.alerts.kind": "alerts",
}

# Sections no kind serves yet but a later version will (refused with "not supported yet").
RESERVED_SECTIONS: tuple[str, ...] = ()


def register(kind: ResourceKind[Any]) -> ResourceKind[Any]:
    origin = type(kind).__module__
    if kind.name in _KINDS:
        raise DexterError(
            f"kind {kind.name!r} is registered twice: by {_ORIGIN[kind.name]} and by {origin}",
            code="duplicate-kind",
        )
    listed = KIND_MODULES.get(origin)
    if listed is not None and listed != kind.section:
        raise DexterError(f"kind {kind.name!r} of {origin} lives in section {kind.section!r}, "
                          f"not {listed!r} as KIND_MODULES says", code=ErrorCode.INTERNAL_ERROR)
    _KINDS[kind.name] = kind
    _ORIGIN[kind.name] = origin
    return kind


def _load(section: str | None = None) -> None:
    """Import the kind modules of one section, or all of them."""
    if None in _IMPORTED or section in _IMPORTED:
        return
    for module, home in KIND_MODULES.items():
        if section is None or home == section:
            importlib.import_module(module)
    _IMPORTED.add(section)


_RANK = {module: rank for rank, module in enumerate(KIND_MODULES)}


def _rank(kind: ResourceKind[Any]) -> int:
    return _RANK.get(_ORIGIN[kind.name], len(_RANK))


def _sorted(kinds: list[ResourceKind[Any]]) -> list[ResourceKind[Any]]:
    return sorted(kinds, key=_rank)


def all_kinds() -> list[ResourceKind[Any]]:
    """Every kind, in `KIND_MODULES` order (not import order), so generated files and
    messages are stable whichever module a caller happened to import first."""
    _load()
    return _sorted(list(_KINDS.values()))


def get_kind(name: str) -> ResourceKind[Any]:
    if name not in _KINDS:
        _load()
    try:
        return _KINDS[name]
    except KeyError:
        raise DexterError(f"unknown kind {name!r}; known: {', '.join(sorted(_KINDS))}",
                          code="unknown-kind") from None


def kinds_in_section(section: str) -> list[ResourceKind[Any]]:
    """Kinds whose entries live in one manifest section (not counting child kinds); imports
    that section's kind modules only."""
    _load(section)
    return _sorted([k for k in _KINDS.values() if k.section == section and k.child_of is None])


def sections() -> list[str]:
    """Every manifest section, without importing a kind: the table's, then those of kinds
    registered from elsewhere (a kind module outside the table, imported by its user)."""
    seen = dict.fromkeys(KIND_MODULES.values())
    for kind in _sorted(list(_KINDS.values())):
        if kind.child_of is None:
            seen.setdefault(kind.section, None)
    return list(seen)


def catalog() -> KindCatalog:
    """Every registered kind, as core takes them (`make_plan(kinds=catalog())`)."""
    return KindCatalog(all_kinds())


def apply_order() -> list[str]:
    """Kind names topologically sorted by `depends_on` (dependencies first)."""
    return catalog().apply_order()
