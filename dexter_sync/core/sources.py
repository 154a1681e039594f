"""Where a value came from in the manifests (file:line:column)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SourceSpan:
    """A position in a manifest file. Lines and columns are 1-based, as editors show them."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


FieldPath = tuple[str | int, ...]
"""A path into a manifest entry, in manifest field names: ("triggers", "critical", "threshold")."""


def format_path(path: FieldPath) -> str:
    """Render a field path the way users write it: `triggers.critical.actions[0].slack`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
