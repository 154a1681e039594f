"""A one-line status on a terminal while dexter reads Sentry (a plan against a slow or large
organization is otherwise silent for seconds).

    async with reading_progress(facade, "acme"):
        plan = await plan_live(facade, desired)

On a terminal (stderr is a TTY and NO_COLOR/TERM=dumb do not ask for plain output) it
redraws `reading acme: 37 requests, 12 lists, 2.1s (waited 1.0s for rate limits)` a few
times a second and clears the line before the caller prints anything. Elsewhere (CI, pipes)
it writes nothing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import IO, Any

REFRESH_SECONDS = 0.2
CLEAR_LINE = "\r\x1b[K"


def wants_progress(stream: IO[str]) -> bool:
    """Only on an interactive terminal that is not a dumb one."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def status_line(organization: str, gateway: Any, elapsed: float) -> str:
    """The status text from the gateway's own counters (no extra bookkeeping on the hot path)."""
    metrics = gateway.metrics
    lists = sum(1 for route in metrics.routes.values() if route.requests)
    text = (f"reading {organization}: {metrics.requests} request"
            f"{'s' if metrics.requests != 1 else ''}, {lists} endpoint"
            f"{'s' if lists != 1 else ''}, {elapsed:.1f}s")
    waited = gateway.limiter.waited
    if waited >= 0.05:
        text += f" (waited {waited:.1f}s for rate limits)"
    if metrics.rate_limited:
        text += f", {metrics.rate_limited} answered 429"
    return text


@asynccontextmanager
async def reading_progress(facade: Any, organization: str,
                           stream: IO[str] | None = None) -> AsyncIterator[None]:
    out = stream or sys.stderr
    if not wants_progress(out):
        yield
        return
    started = time.monotonic()
    width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)

    def draw() -> None:
        line = status_line(organization, facade.gateway, time.monotonic() - started)
        out.write(CLEAR_LINE + line[:width])
        out.flush()

    async def redraw() -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            draw()

    draw()
    task = asyncio.create_task(redraw())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        out.write(CLEAR_LINE)
        out.flush()
