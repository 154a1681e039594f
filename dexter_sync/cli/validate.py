"""`dexter validate [PATH] [--online]`: load the manifests offline and report every problem at
once; `--online` also asks Sentry to run every declared Discover and metric-alert query."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..core.diagnostics import ValidationError
from ..core.state import DesiredState
from ..manifest import load
from .common import connect, resolve_org, run, sentry_options

if TYPE_CHECKING:  # the sentry package is imported for --online only (start-up)
    from ..sentry.query_check import OnlineCheck


@click.command(name="validate")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--online", is_flag=True,
              help="Also ask Sentry to run every declared Discover and metric-alert query "
                   "(one row each); a query Sentry rejects fails with its message.")
@sentry_options
def command(path: Path, online: bool, sentry_url: str | None, org: str | None,
            concurrency: int) -> None:
    """Check the manifests in PATH (a directory with dexter.yaml, or the file) without
    contacting Sentry (unless --online). Exit 0 when valid, 1 with every problem listed
    otherwise."""
    loaded = load(path)  # a ValidationError reaches the CLI boundary: diagnostics, exit 1
    if online:
        result = run(_online(loaded.state, sentry_url=sentry_url, org=org,
                             concurrency=concurrency))
        skipped = (f" ({result.skipped} crash-rate alert{'s' if result.skipped != 1 else ''}"
                   " not run: sessions are not events)") if result.skipped else ""
        click.echo(f"online: Sentry runs all {result.checked} declared "
                   f"quer{'ies' if result.checked != 1 else 'y'}{skipped}")
    resources = loaded.state.resources
    by_kind = Counter(r.kind for r in resources)
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(by_kind.items()))
    files = len(loaded.files)
    click.echo(
        f"ok: {len(resources)} resource{'s' if len(resources) != 1 else ''}"
        + (f" ({detail})" if detail else "")
        + f" in {files} file{'s' if files != 1 else ''}"
        + f" for organization {loaded.state.settings.organization}"
    )


async def _online(desired: DesiredState, *, sentry_url: str | None, org: str | None,
                  concurrency: int) -> OnlineCheck:
    from ..sentry.query_check import check_queries

    organization = resolve_org(org, desired.settings.organization)
    async with connect(sentry_url=sentry_url, organization=organization, desired=desired,
                       concurrency=concurrency) as facade:
        result = await check_queries(facade.gateway, organization, desired)
    if result.problems:
        raise ValidationError(result.problems)
    return result
