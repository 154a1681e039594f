"""Values from manifests and from Sentry shown to a person, unable to spoof what surrounds them.

A name holding a newline could print a fake "Plan: 0 to create" line, ANSI escapes could
recolour or erase the terminal, BEL rings it, right-to-left overrides reorder the text, and
in a pull-request comment `## LGTM @everyone` becomes a heading and a mention. Text output
shows control and format characters as escapes (`\\n`, `\\x1b`, `\\u202e`); markdown output
additionally neutralizes markdown and HTML syntax with character references. JSON output is
unaffected (json.dumps escapes control characters itself).
"""

from __future__ import annotations

import html
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*[]#|~@"}
"""Markdown (and GitHub mention) syntax, as character references: rendered as the character
itself, in markdown and inside HTML tags such as <summary> alike."""


class Shown(str):
    """Text already escaped (and possibly coloured): the text formatter leaves it as it is."""


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    # Cc: C0/C1 controls (ESC, BEL, CR, ...); Cf: format characters (bidi overrides,
    # zero-width joiners); Zl/Zp: line and paragraph separators
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """`text` with every control/format character shown as an escape (newlines kept when a
    block legitimately spans lines, such as a YAML listing dexter made itself)."""
    value = str(text)
    if all(char.isprintable() for char in value):
        return value  # the common case, without building a new string
    return "".join(char if not _unsafe(char) or (keep_newlines and char == "\n")
                   else _escape(char) for char in value)


def shown(value: object) -> object:
    """The text formatter's jinja `finalize`: escape every interpolated value once."""
    if isinstance(value, Shown) or not isinstance(value, str):
        return value
    return printable(value)


def markdown_inline(text: object) -> str:
    """A value inside a markdown line (or an HTML tag in it): one line, no markup."""
    escaped = html.escape(printable(text), quote=False)
    return "".join(_MARKDOWN.get(char, char) for char in escaped)
