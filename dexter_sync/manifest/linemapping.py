"""Mapping a line of a rendered `.j2` file back to the template line that produced it.

jinja2 keeps no output-to-source map, so this matches text: a template line becomes a
pattern (literal text kept, `{{ }}` matching anything, `{% %}` and `{# #}` matching
nothing) and a rendered line maps back when exactly one template line matches it. A line
inside a loop maps to the loop body's line, which is where the user edits. When several
template lines could have produced it, there is no mapping and the rendered line is quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})")


@dataclass
class TemplateLines:
    source: str
    _patterns: list[tuple[int, re.Pattern[str]]] | None = field(default=None, repr=False)

    def patterns(self) -> list[tuple[int, re.Pattern[str]]]:
        if self._patterns is None:
            self._patterns = []
            for number, line in enumerate(self.source.splitlines(), start=1):
                pattern = _pattern(line.strip())
                if pattern is not None:
                    self._patterns.append((number, pattern))
        return self._patterns

    def line(self, number: int) -> str:
        return self.source.splitlines()[number - 1]

    def origin(self, rendered_line: str) -> int | None:
        """The template line that produced `rendered_line`, when exactly one could have."""
        text = rendered_line.strip()
        if not text:
            return None
        matches = [n for n, p in self.patterns() if p.fullmatch(text)]
        return matches[0] if len(matches) == 1 else None


def _pattern(line: str) -> re.Pattern[str] | None:
    """A regex for what one template line can render to; None when it renders no text."""
    parts = _TAG.split(line)
    regex = ""
    for part in parts:
        if part.startswith("{{"):
            regex += ".*?"
        elif part.startswith(("{%", "{#")):
            continue
        else:
            regex += re.escape(part)
    if not regex.strip() or regex == ".*?":
        return None  # statement-only lines, or a bare expression that could be anything
    return re.compile(regex, re.DOTALL)
