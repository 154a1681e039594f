"""`dexter plan` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="plan")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter plan is not built yet")
