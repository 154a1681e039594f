"""`dexter schema`: write the JSON Schemas and the manifest reference, or check them."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.diagnostics import DexterError
from ..manifest.reference import render_reference
from ..manifest.schemas import (
    RESOURCES_SCHEMA_FILE,
    SETTINGS_SCHEMA_FILE,
    resources_schema,
    schema_text,
    settings_schema,
)


def generated_files(out: Path, docs: Path | None) -> dict[Path, str]:
    """Every generated file and its expected content."""
    files = {
        out / SETTINGS_SCHEMA_FILE: schema_text(settings_schema()),
        out / RESOURCES_SCHEMA_FILE: schema_text(resources_schema()),
    }
    if docs is not None:
        files[docs] = render_reference()
    return files


@click.command(name="schema")
@click.option("--out", type=click.Path(path_type=Path), default=Path("schemas"),
              show_default=True, help="Directory for the JSON Schemas.")
@click.option("--docs", type=click.Path(path_type=Path), default=None,
              help="Also write the manifest reference (docs/manifest-reference.md).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when a committed file differs from the models.")
def command(out: Path, docs: Path | None, check: bool) -> None:
    """Generate JSON Schemas for dexter.yaml and resource files (for editors through
    yaml-language-server) and, with --docs, the manifest reference, all from the models."""
    files = generated_files(out, docs)
    if check:
        stale = [p for p, text in files.items() if _read(p) != text]
        if stale:
            raise DexterError(
                "out of date: " + ", ".join(str(p) for p in stale)
                + " (run `dexter schema" + (f" --out {out}" if out != Path("schemas") else "")
                + (f" --docs {docs}" if docs else "") + "`)",
                code="stale-schema")
        click.echo(f"up to date: {len(files)} files")
        return
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            changed = _read(path) != text
            if changed:
                path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise DexterError(f"cannot write {path}: {error.strerror}", code="write-failed") from None
        click.echo(f"{'wrote' if changed else 'unchanged'} {path}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
