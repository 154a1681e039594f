"""Putting the daemon together: loop + emitter + hub + (optional) server and Slack notifier,
SIGTERM/SIGINT handling, and a clean stop.

A stop signal lets the running cycle finish (bounded), closes the streams, stops the server
and flushes queued Slack messages, all within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

import uvicorn

from ..core.diagnostics import DexterError
from ..core.state import DesiredState
from ..sentry.facade import SentryFacade
from . import statuspage
from .emitter import Emitter, Sink
from .hub import EventHub
from .loop import LoopOptions, Planner, WatchLoop
from .metrics import Counters, WatchCollector, registry_for
from .notify import SlackNotifier
from .release_health import ReleaseHealth
from .server import ServerContext, create_app
from .state import WatchState

SERVER_STOP_SECONDS = 3.0


@dataclass(frozen=True)
class DaemonOptions:
    loop: LoopOptions
    serve: tuple[str, int] | None = None
    types: frozenset[str] | None = None
    notify_url: str | None = None
    notify_types: frozenset[str] | None = None
    webhook_secret: str | None = None
    stream_token: str | None = None
    once: bool = False


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1: loopback unless told otherwise)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise DexterError(f"--serve wants HOST:PORT (e.g. 127.0.0.1:8787), got {text!r}",
                          code="bad-address")
    return host, int(port)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a clear error."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise DexterError(f"could not serve on {host}:{port}: {error.strerror or error}",
                          code="serve-failed") from None
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon decides when the server stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    @property
    def port(self) -> int | None:
        for server in self.servers:
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        return None


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT)
    for sig in handled:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


async def run_daemon(facade: SentryFacade, desired: DesiredState, planner: Planner,
                     options: DaemonOptions, *, out: TextIO,
                     on_serving: Callable[[str], None] = lambda url: None) -> WatchState:
    state = WatchState(facade.organization, options.loop.interval)
    hub, counters = EventHub(), Counters()
    notifier = (SlackNotifier(options.notify_url, counters, types=options.notify_types)
                if options.notify_url else None)
    sinks: tuple[Sink, ...] = (notifier,) if notifier else ()
    emitter = Emitter(state, out, hub, types=options.types, sinks=sinks)
    loop = WatchLoop(facade, desired, planner, emitter, state, options.loop)
    stop = asyncio.Event()
    server: _Server | None = None
    serving: asyncio.Task[None] | None = None
    with _stop_on_signals(stop):
        try:
            if notifier:
                notifier.start()
            if options.serve:
                context = ServerContext(
                    state, hub, emitter, counters,
                    registry_for(WatchCollector(state, hub, counters, lambda: facade.gateway)),
                    webhook_secret=options.webhook_secret, stream_token=options.stream_token,
                    release_health=ReleaseHealth(facade.gateway, facade.organization,
                                                 ttl=max(60.0, options.loop.interval)).read)
                host, port = options.serve
                server = _Server(uvicorn.Config(
                    create_app(context, statuspage.ROUTES), host=host, port=port, log_level="warning",
                    lifespan="off", access_log=False, ws="websockets-sansio",
                    timeout_graceful_shutdown=1))
                sock = bind(host, port)  # ourselves: a busy port is our error, not uvicorn's exit
                serving = asyncio.ensure_future(server.serve(sockets=[sock]))
                while not server.started:
                    if serving.done():
                        serving.result()
                        raise DexterError(f"could not serve on {host}:{port}",
                                          code="serve-failed")
                    await asyncio.sleep(0.01)
                on_serving(f"http://{host}:{server.port}")
            await loop.run(stop, once=options.once)
        finally:
            hub.close()
            if server is not None and serving is not None:
                server.should_exit = True
                done, _ = await asyncio.wait({serving}, timeout=SERVER_STOP_SECONDS)
                if not done:
                    server.force_exit = True
                    await asyncio.wait({serving}, timeout=1.0)
            if notifier:
                await notifier.aclose()
    return state
