"""The manifest file `dexter migrate alerts` writes: `monitors` and `alerts` sections, with
a first line that marks it as dexter's, so a later run may replace it and never a file a
person wrote."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..core.diagnostics import DexterError
from ..render.planfile import write_text_atomic
from .convert import Converted

MARKER = "# Written by `dexter migrate alerts`"


def render(converted: Converted, schema: str | None) -> str:
    body: dict[str, list[dict[str, object]]] = {}
    if converted.monitors:
        body["monitors"] = converted.monitors
    body["alerts"] = converted.alerts
    text = yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)
    modeline = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return f"{MARKER} from the issue_alerts/metric_alerts manifests next to it.\n" \
        f"{modeline}{text}"


def write(path: Path, text: str) -> None:
    """Write atomically; refuse to replace a file dexter did not write."""
    if path.exists():
        first = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if not first.startswith(MARKER):
            raise DexterError(f"{path} exists and was not written by dexter migrate; choose "
                              "another --out", code="migration-target")
    write_text_atomic(path, text)
