"""`dexter inspect` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="inspect")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter inspect is not built yet")
