"""Reading one manifest file as text: size cap, UTF-8 check, tab-indentation check.

Every refusal is a Diagnostic with a position, never an exception from the OS or codec.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..core.diagnostics import Diagnostic
from ..core.sources import SourceSpan

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Manifests are small; anything bigger is refused before it is read (a 50 MB file costs
one stat call, not a parse)."""


def read_manifest_text(path: Path, display: str) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or None and the reasons it cannot be read."""
    try:
        size = path.stat().st_size
    except OSError as error:
        return None, [_problem("unreadable-file", f"cannot read file: {error.strerror}", display)]
    if size > MAX_FILE_BYTES:
        return None, [_problem(
            "file-too-large",
            f"file is {size / 1048576:.1f} MiB, over the {MAX_FILE_BYTES // 1048576} MiB limit "
            "for a manifest file",
            display,
            hint="split it into several files and include them with a glob",
        )]
    try:
        with path.open("rb") as handle:
            # Read at most one byte past the cap: the file may have grown since stat().
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return None, [_problem("unreadable-file", f"cannot read file: {error.strerror}", display)]
    if len(data) > MAX_FILE_BYTES:
        return None, [_problem("file-too-large", "file is over the manifest size limit", display)]
    return decode_utf8(data, display)


def decode_utf8(data: bytes, display: str) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (a leading BOM is allowed); name the first bad byte's offset and line."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        return None, [Diagnostic(
            "not-utf8",
            f"file is not UTF-8: byte 0x{data[error.start]:02x} at offset {error.start} "
            f"(line {line}, column {column}) cannot be decoded",
            span=SourceSpan(display, line, column),
            hint="save the file as UTF-8",
        )]


def tab_indentation(text: str, display: str) -> Diagnostic | None:
    """The first line indented with a tab, which YAML forbids (PyYAML's own message is cryptic)."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)]
        if "\t" in indent and stripped:
            return Diagnostic(
                "tab-indentation",
                "a tab is used for indentation; YAML indents with spaces only",
                span=SourceSpan(display, number, indent.index("\t") + 1),
                hint="replace the tabs at the start of this line with spaces",
            )
    return None


def _problem(code: str, message: str, display: str, *, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span=SourceSpan(display, 1, 1), hint=hint)
