"""The registry's kinds and sections in a stable order: the order of `KIND_MODULES`.

The registry keeps kinds in registration order, which depends on which module happened to
be imported first; generated files (schemas, the reference) and messages must not.
"""

from __future__ import annotations

from ..kinds.base import ResourceKind
from ..kinds.registry import KIND_MODULES, all_kinds


def _rank(kind: ResourceKind) -> int:
    module = type(kind).__module__
    return KIND_MODULES.index(module) if module in KIND_MODULES else len(KIND_MODULES)


def ordered_kinds() -> list[ResourceKind]:
    return sorted(all_kinds(), key=_rank)


def ordered_sections() -> list[str]:
    return list(dict.fromkeys(k.section for k in ordered_kinds() if k.child_of is None))


def section_kinds(section: str) -> list[ResourceKind]:
    """Kinds with their own entries in a section (child kinds excluded)."""
    return [k for k in ordered_kinds() if k.section == section and k.child_of is None]
