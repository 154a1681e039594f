"""`dexter migrate alerts [PATH]`: move legacy alert manifests to `alerts` and `monitors`.

Writes the converted manifests (--out), shows where each rule stands in Sentry, and with
--apply runs the cut-over waves (migration/cutover.py) up to --through.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..core.diagnostics import DexterError
from ..migration.convert import convert
from ..migration.cutover import WAVES, inventory, run_cutover
from ..migration.files import render, write
from .common import connect, run, sentry_options
from .plan import load_desired


def _schema_for(root: Path, target: Path) -> str | None:
    """The resources schema next to the one dexter.yaml's modeline names, seen from
    `target` (None when dexter.yaml has no modeline)."""
    settings = root / "dexter.yaml"
    first = settings.read_text(encoding="utf-8").split("\n", 1)[0] if settings.is_file() else ""
    if "$schema=" not in first:
        return None
    schema = (root / first.split("$schema=", 1)[1].strip()).parent / "resources.schema.json"
    return os.path.relpath(schema, target.parent)


@click.group(name="migrate")
def command() -> None:
    """Move manifests to Sentry's new alerting model."""


@command.command(name="alerts")
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="File to write the alerts/monitors manifests to "
                   "[default: PATH/migrated-alerts.yaml].")
@click.option("--apply", "apply_waves", is_flag=True,
              help="Run the cut-over waves in Sentry (otherwise only show them).")
@click.option("--through", type=click.Choice(WAVES), default="switch", show_default=True,
              help="Last wave to run: create (new, disabled), switch (enable new, disable "
                   "twins), retire (delete twins).")
@sentry_options
def alerts(path: str, out_file: str | None, apply_waves: bool, through: str,
           sentry_url: str | None, org: str | None, concurrency: int) -> None:
    """Convert the issue_alerts/metric_alerts manifests in PATH and plan the safe cut-over."""
    desired = load_desired(path, org)
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    target = Path(out_file) if out_file else root / "migrated-alerts.yaml"
    organization = desired.settings.organization

    async def main() -> list[str]:
        async with connect(sentry_url=sentry_url, organization=organization,
                           concurrency=concurrency) as facade:
            converted = convert(desired, await facade.read_directory())
            if converted.problems:
                listed = "\n  ".join(converted.problems)
                raise DexterError(f"these rules cannot be converted:\n  {listed}",
                                  code="migration-blocked")
            write(target, render(converted, _schema_for(root, target)))
            count = f"{len(converted.alerts)} alerts and {len(converted.monitors)} monitors"
            lines = [f"wrote {count} to {target}"]
            if apply_waves:
                lines += await run_cutover(facade, organization, converted, through=through)
            states, _ = await inventory(facade, organization, converted)
            lines += [f"  {name}: next wave {state.stage()} (from {converted.sources[name]})"
                      for name, state in sorted(states.items())]
            return lines

    lines = run(main())
    for line in lines:
        click.echo(line)
    click.echo("Remove the migrated issue_alerts/metric_alerts entries from the manifests "
               "once the switch wave ran: dexter refuses one rule in both models.")
