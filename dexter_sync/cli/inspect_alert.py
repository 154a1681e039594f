"""`dexter inspect alert NAME`: a metric or issue alert's recent history (incidents and their
status changes; firings per issue), from Sentry's alert-history endpoints
(sentry/alert_history.py)."""

from __future__ import annotations

import json

import click

from ..sentry.alert_history import AlertHistory, alert_history, find_alert, render_history
from .common import connect, resolve_org, run, sentry_options


@click.command(name="alert")
@click.argument("name")
@click.option("--project", default=None, help="The issue alert's project (when names repeat).")
@click.option("--period", default="14d", show_default=True, help="How far back (24h, 14d...).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@sentry_options
def alert_command(name: str, project: str | None, period: str, fmt: str,
                  sentry_url: str | None, org: str | None, concurrency: int) -> None:
    """Show the recent history of the alert called NAME: a metric alert's incidents with
    their status changes, or an issue alert's firings per issue."""
    organization = resolve_org(org)

    async def fetch() -> AlertHistory:
        async with connect(sentry_url=sentry_url, organization=organization,
                           concurrency=concurrency) as facade:
            alert = await find_alert(facade, name, project=project)
            return await alert_history(facade, alert, period=period)

    history = run(fetch())
    if fmt == "json":
        click.echo(json.dumps(history.as_dict(), indent=2, sort_keys=True))
    else:
        click.echo(render_history(history))
