"""Where each value of a parsed YAML document sits: document path -> key and value positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.sources import FieldPath, SourceSpan


@dataclass(frozen=True, slots=True)
class Located:
    value: SourceSpan
    key: SourceSpan | None = None
    """Position of the mapping key naming this value (None for list items and the root)."""


@dataclass
class YamlDocument:
    """A parsed manifest file: plain Python data plus the position of every value in it."""

    file: str
    data: Any
    spans: dict[FieldPath, Located] = field(default_factory=dict)
    rendered: bool = False
    """True for `.j2` files: positions are lines of the rendered output, not of the template."""

    def span(self, path: FieldPath, *, key: bool = True) -> SourceSpan:
        """The closest known position for a path (its longest located prefix).

        With `key`, a mapping entry is pointed at by its key (where editors put the cursor
        for "unknown field"); otherwise by its value (for "wrong type").
        """
        for n in range(len(path), -1, -1):
            located = self.spans.get(tuple(path[:n]))
            if located is not None:
                if key and located.key is not None:
                    return located.key
                return located.value
        return SourceSpan(self.file, 1, 1)

    def has(self, path: FieldPath) -> bool:
        return tuple(path) in self.spans
