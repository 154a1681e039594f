"""`dexter schema` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="schema")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter schema is not built yet")
