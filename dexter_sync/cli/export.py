"""`dexter export` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="export")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter export is not built yet")
