"""`dexter emulator` (placeholder until its issue lands; the owning module replaces this file)."""

import click


@click.command(name="emulator")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("dexter emulator is not built yet")
