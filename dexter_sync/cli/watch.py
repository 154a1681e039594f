"""`dexter watch [PATH]`: the drift-watch daemon (README "Watch").

Each cycle plans exactly as `dexter plan` does (`plan_live`) and prints events as JSON lines
on stdout; `--serve` adds the HTTP streams, health, metrics and the Sentry webhook receiver.
Secrets only from the environment: DEXTER_WEBHOOK_SECRET (the Sentry integration's client
secret), DEXTER_WATCH_TOKEN (bearer token for /events and /ws), SENTRY_AUTH_TOKEN.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Coroutine
from typing import Any

import click

from ..core.diagnostics import DexterError
from ..core.state import DesiredState
from ..sentry.connect import open_facade
from ..sentry.gateway import GatewaySettings
from ..sentry.redaction import register_secret
from ..sentry.retrying import RetryPolicy
from ..watch.daemon import DaemonOptions, parse_address, run_daemon
from ..watch.events import parse_types
from ..watch.loop import LoopOptions
from ..watch.webhooks import SECRET_ENV
from .common import global_options, notice, run, sentry_options
from .embedded import open_embedded
from .plan import load_desired, plan_live

TOKEN_ENV = "DEXTER_WATCH_TOKEN"
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """`60`, `60s`, `500ms`, `2m`, `1h` -> seconds (more than 0)."""
    match = DURATION.match(text)
    seconds = float(match.group(1)) * UNITS[match.group(2)] if match else 0.0
    if seconds <= 0:
        raise DexterError(f"a duration is written like 60s, 500ms or 2m, not "
                          f"{text!r}", code="bad-duration")
    return seconds


@click.command(name="watch")
@click.argument("path", default=".", type=click.Path())
@click.option("--interval", default="60s", show_default=True,
              help="Time between cycles (60s, 500ms, 2m).")
@click.option("--serve", "serve", default=None, metavar="HOST:PORT",
              help="Serve /events, /ws, /healthz, /metrics and /webhooks/sentry "
                   "(127.0.0.1 unless a host is given; port 0 picks a free one).")
@click.option("--auto-apply", is_flag=True,
              help="Heal drift: apply the plan each cycle (never past a safety limit).")
@click.option("--notify", "notify_url", default=None, metavar="SLACK_WEBHOOK_URL",
              help="Post events to a Slack incoming webhook.")
@click.option("--notify-events", default=None, metavar="TYPES",
              help="Event types posted to Slack (default: every emitted type).")
@click.option("--events", "event_types", default=None, metavar="TYPES",
              help="Event types to emit, comma-separated; `drift.*` selects a family "
                   "(default: all). Feeds for unchosen types are not polled.")
@click.option("--once", is_flag=True, help="Run one cycle and exit.")
@click.option("--unavailable-after", default=2, type=click.IntRange(1), show_default=True,
              help="Failed cycles in a row before sentry.unavailable and /healthz 503.")
@click.option("--regression-check", default="5m", show_default=True, metavar="DURATION",
              help="How often a new release is compared with the previous one "
                   "(release.regression; the verdict of `dexter releases compare`).")
@sentry_options
def command(path: str, interval: str, serve: str | None, auto_apply: bool,
            notify_url: str | None, notify_events: str | None, event_types: str | None,
            once: bool, unavailable_after: int, regression_check: str, sentry_url: str | None, org: str | None,
            concurrency: int) -> None:
    """Watch Sentry for drift from the manifests at PATH and for new issues, incidents and
    deploys; print events as JSON lines (and serve them with --serve)."""
    seconds = parse_duration(interval)
    options = DaemonOptions(
        loop=LoopOptions(interval=seconds, auto_apply=auto_apply,
                         unavailable_after=unavailable_after,
                         regression_check=parse_duration(regression_check)),
        serve=parse_address(serve) if serve else None,
        types=parse_types(event_types), notify_url=notify_url,
        notify_types=parse_types(notify_events),
        webhook_secret=os.environ.get(SECRET_ENV) or None,
        stream_token=os.environ.get(TOKEN_ENV) or None, once=once)
    register_secret(options.webhook_secret)
    register_secret(options.stream_token)
    if options.serve and not options.webhook_secret:
        notice(f"{SECRET_ENV} is not set: POST /webhooks/sentry rejects every delivery")
    desired = load_desired(path, org)
    run_fast(_watch(desired, options, sentry_url=sentry_url, concurrency=concurrency))


def run_fast(coroutine: Coroutine[Any, Any, None]) -> None:
    """On uvloop where it is installed (a dependency off Windows): the daemon's event loop
    carries every stream, and uvloop's is several times cheaper per write."""
    try:
        import uvloop
    except ImportError:
        run(coroutine)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coroutine)


async def _watch(desired: DesiredState, options: DaemonOptions, *, sentry_url: str | None,
                 concurrency: int) -> None:
    # Fewer attempts than plan/apply: the next cycle is the retry, and a shorter failing
    # cycle notices an outage (and its end) sooner.
    settings = GatewaySettings(concurrency=concurrency, retry=RetryPolicy(attempts=3))
    async with open_facade(sentry_url=sentry_url, organization=desired.settings.organization,
                           desired=desired, settings=settings, notify=notice,
                           verbose=global_options().verbose, embedded=open_embedded) as facade:
        def serving(url: str) -> None:
            click.echo(json.dumps({"serving": url}), err=True)

        await run_daemon(facade, desired, plan_live, options, out=sys.stdout,
                         on_serving=serving)
