"""Serving the emulator app with uvicorn on a loopback port, in a thread (tests) or in the
foreground (`dexter emulator`)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette

from .faults import ConnectionDropped


class _DroppedFilter(logging.Filter):
    """Injected connection drops are intended: keep them out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def _quiet_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DroppedFilter) for f in logger.filters):
        logger.addFilter(_DroppedFilter())


class ReadyServer(uvicorn.Server):
    """A uvicorn server that calls `on_ready(port)` once its socket listens."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None] | None = None):
        super().__init__(config)
        self.on_ready = on_ready
        self.port: int | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.servers and self.servers[0].sockets:
            self.port = self.servers[0].sockets[0].getsockname()[1]
        if self.on_ready and self.port is not None and not self.should_exit:
            self.on_ready(self.port)


def make_server(app: Starlette, host: str = "127.0.0.1", port: int = 0, *,
                on_ready: Callable[[int], None] | None = None,
                log_level: str = "warning") -> ReadyServer:
    _quiet_drops()
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off",
                            access_log=False, timeout_graceful_shutdown=2)
    return ReadyServer(config, on_ready)


class ThreadedServer:
    """uvicorn in a background thread; `start()` waits until it listens."""

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = make_server(app, host, port)
        self.thread = threading.Thread(target=self.server.run, name="dexter-emulator",
                                       daemon=True)
        self.host = host

    def start(self, timeout: float = 10.0) -> int:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while self.server.port is None or not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.01)
        return self.server.port

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
