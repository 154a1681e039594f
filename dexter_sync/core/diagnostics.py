"""Problems found in user input, collected so that one run reports all of them.

A Diagnostic is what a user sees: where (file:line:column), which field, what was expected,
and a hint such as "did you mean 'time_window'?". Every user-facing error carries a stable
kebab-case code (`unknown-field`, `stale-plan`, `unsafe-plan`) that scripts can match on.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from .sources import FieldPath, SourceSpan, format_path


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: SourceSpan | None = None
    path: FieldPath = ()
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        field_part = f"{format_path(self.path)}: " if self.path else ""
        text = f"{where}{field_part}{self.message} [{self.code}]"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class DexterError(Exception):
    """Base of every error dexter reports to a user without a traceback.

    The CLI's single error boundary prints `str(error)` and exits with `exit_code`.
    """

    code: str = "error"
    exit_code: int = 1

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


@dataclass
class Diagnostics:
    """An accumulator: add problems as they are found, raise once at the end."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)


class ValidationError(DexterError):
    """Bad user input: one or more diagnostics. The only error the loader ever raises."""

    code = "invalid-manifest"

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(
            diagnostics,
            key=lambda d: (d.span.file, d.span.line, d.span.column) if d.span else ("", 0, 0),
        )
        count = len(self.diagnostics)
        lines = [f"{count} error{'s' if count != 1 else ''} in the manifests:"]
        lines += [f"  {d}" for d in self.diagnostics]
        super().__init__("\n".join(lines))


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest valid name for a misspelt one, as a hint text, or None."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
