"""`dexter apply` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="apply")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter apply is not built yet")
