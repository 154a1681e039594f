"""The registry of resource kinds. Adding a kind: write its module, add one import line here.

Each kind module ends with `register(MyKind())`; registering a name twice is refused and
says which module registered it first (octoDNS's Record.register_type habit).
"""

from __future__ import annotations

import importlib
from typing import Any

from ..core.contract import KindCatalog
from ..core.diagnostics import DexterError
from .base import ResourceKind

_KINDS: dict[str, ResourceKind[Any]] = {}
_ORIGIN: dict[str, str] = {}

# Order matters only for display; apply order comes from `depends_on`.
KIND_MODULES = (
    "dexter_sync.kinds.metric_alerts.kind",
    "dexter_sync.kinds.issue_alerts.kind",
    "dexter_sync.kinds.discover_queries",
    "dexter_sync.kinds.releases",
    "dexter_sync.kinds.deploys",
    "dexter_sync.kinds.repositories",
    "dexter_sync.kinds.code_mappings",
    "dexter_sync.kinds.external_issue_links",
    "dexter_sync.kinds.monitors.metric",
    "dexter_sync.kinds.monitors.uptime",
    "dexter_sync.kinds.monitors.cron",
    "dexter_sync.kinds.alerts.kind",
)

# Sections no kind serves yet but a later version will (refused with "not supported yet").
RESERVED_SECTIONS: tuple[str, ...] = ()


def register(kind: ResourceKind[Any]) -> ResourceKind[Any]:
    origin = type(kind).__module__
    if kind.name in _KINDS:
        raise DexterError(
            f"kind {kind.name!r} is registered twice: by {_ORIGIN[kind.name]} and by {origin}",
            code="duplicate-kind",
        )
    _KINDS[kind.name] = kind
    _ORIGIN[kind.name] = origin
    return kind


def _load() -> None:
    if len(_ORIGIN) < len(KIND_MODULES):
        for module in KIND_MODULES:
            importlib.import_module(module)


def _rank(kind: ResourceKind[Any]) -> int:
    module = _ORIGIN[kind.name]
    return KIND_MODULES.index(module) if module in KIND_MODULES else len(KIND_MODULES)


def all_kinds() -> list[ResourceKind[Any]]:
    """Every kind, in `KIND_MODULES` order (not import order), so generated files and
    messages are stable whichever module a caller happened to import first."""
    _load()
    return sorted(_KINDS.values(), key=_rank)


def get_kind(name: str) -> ResourceKind[Any]:
    _load()
    try:
        return _KINDS[name]
    except KeyError:
        raise DexterError(f"unknown kind {name!r}; known: {', '.join(sorted(_KINDS))}",
                          code="unknown-kind") from None


def kinds_in_section(section: str) -> list[ResourceKind[Any]]:
    """Kinds whose entries live in one manifest section (not counting child kinds)."""
    return [k for k in all_kinds() if k.section == section and k.child_of is None]


def sections() -> list[str]:
    seen: dict[str, None] = {}
    for k in all_kinds():
        if k.child_of is None:
            seen.setdefault(k.section, None)
    return list(seen)


def catalog() -> KindCatalog:
    """Every registered kind, as core takes them (`make_plan(kinds=catalog())`)."""
    return KindCatalog(all_kinds())


def apply_order() -> list[str]:
    """Kind names topologically sorted by `depends_on` (dependencies first)."""
    return catalog().apply_order()
