"""`dexter validate [PATH]`: load the manifests offline and report every problem at once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from ..manifest import load


@click.command(name="validate")
@click.argument("path", default=".", type=click.Path(path_type=Path))
def command(path: Path) -> None:
    """Check the manifests in PATH (a directory with dexter.yaml, or the file) without
    contacting Sentry. Exit 0 when valid, 1 with every problem listed otherwise."""
    loaded = load(path)  # a ValidationError reaches the CLI boundary: diagnostics, exit 1
    resources = loaded.state.resources
    by_kind = Counter(r.kind for r in resources)
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items()))
    files = len(loaded.files)
    click.echo(
        f"ok: {len(resources)} resource{'s' if len(resources) != 1 else ''}"
        + (f" ({detail})" if detail else "")
        + f" in {files} file{'s' if files != 1 else ''}"
        + f" for organization {loaded.state.settings.organization}"
    )
