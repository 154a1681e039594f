"""Shared by the benchmark scripts: `dexter emulator` served as its own process on loopback
(as Sentry would be remote), with an admin client on its `/__emulator__/` endpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


@contextmanager
def emulator_process(token: str, *options: str) -> Iterator[tuple[str, httpx.Client]]:
    """`dexter emulator --port 0 --token TOKEN *options` in a subprocess: (base URL, admin
    client). The caller's SENTRY_AUTH_TOKEN is not passed on (the emulator takes `token`)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from dexter_sync.cli.main import main; main()", "emulator",
         "--port", "0", "--token", token, *options],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={k: v for k, v in os.environ.items() if k != "SENTRY_AUTH_TOKEN"})
    try:
        url = json.loads(process.stdout.readline())["url"]
        with httpx.Client(base_url=f"{url}/__emulator__/", timeout=300,
                          headers={"Authorization": f"Bearer {token}"}) as admin:
            yield url, admin
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()
