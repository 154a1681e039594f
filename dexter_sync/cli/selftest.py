"""`dexter selftest`: the contract checks against a Sentry (or `dexter emulator`).

Writes only objects named `dexter-selftest-<run id>-…` and removes them at the end, also
after a failure, Ctrl-C or SIGTERM; a run first removes what an interrupted run left.
Exit 0 when no check failed, 1 otherwise (130 when interrupted).
"""

from __future__ import annotations

import asyncio
import signal

import click

from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError
from ..selftest import SelftestOptions, run_selftest
from ..selftest.report import render_json, render_text
from ..selftest.runner import SelftestRun
from ..sentry.connect import URL_ENV
from .common import connect, resolve_org, sentry_options


async def _main(sentry_url: str, org: str, options: SelftestOptions,
                concurrency: int) -> SelftestRun:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:  # SIGTERM cancels like Ctrl-C does, so the sweep still runs
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    async with connect(sentry_url=sentry_url, organization=org,
                       concurrency=concurrency) as facade:
        return await run_selftest(facade, options)


@click.command(name="selftest")
@click.option("--project", default=None,
              help="Project for project-scoped samples (default: the first by slug).")
@click.option("--read-only", is_flag=True,
              help="Only listing and shape checks: nothing is written.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@sentry_options
@click.pass_context
def command(ctx: click.Context, project: str | None, read_only: bool, fmt: str,
            sentry_url: str | None, org: str | None, concurrency: int) -> None:
    """Check dexter's reading of the Sentry API against a live server, in a sandbox."""
    if not sentry_url:
        # never the embedded emulator: a selftest of our own emulator proves nothing
        raise DexterError(f"selftest needs --sentry-url URL (or {URL_ENV})",
                          code=ErrorCode.USAGE)
    options = SelftestOptions(project=project, read_only=read_only)
    try:
        run = asyncio.run(_main(sentry_url, resolve_org(org), options, concurrency))
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    click.echo(render_json(run) if fmt == "json" else render_text(run), nl=False)
    if run.failed:
        ctx.exit(1)
