"""`dexter validate` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="validate")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter validate is not built yet")
