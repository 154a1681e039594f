"""Shared fixtures: a Sentry emulator served on loopback, seeded with a small standard org.

Helpers live in dexter_sync.emulator.testing (running_emulator, asgi_client); keep this
file small.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from dexter_sync.emulator.testing import EmulatorHandle, running_emulator
from tests.test_apply_support import prepared_emulator

# A suite started as a background job (`pytest &` without job control) inherits an ignored
# SIGINT, and so would every dexter process it starts: the tests that interrupt a run with
# Ctrl-C would then see it ignored. A handler here is reset to the default in each child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

STANDARD_NAMES = {
    "projects": ["backend", "frontend"],
    "teams": ["platform"],
    "members": ["alice@example.com"],
    "environments": ["production", "staging"],
}
STANDARD_EXTRAS = {
    "integrations": [("slack", "Acme Slack"), ("github", "acme-github")],
    "slack_channels": [("Acme Slack", "#alerts")],
    "repositories": [("acme/backend", "acme-github")],
}


@pytest.fixture(scope="session")
def _served_emulator() -> Iterator[EmulatorHandle]:
    with running_emulator(**STANDARD_NAMES) as emu:
        yield emu


@pytest.fixture
def emulator(_served_emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """An emulator (org "acme") with the standard names, on 127.0.0.1: one server for the
    session, wiped and back to its default settings before each test."""
    emu = _served_emulator
    emu.reset()
    emu.ensure_names(**STANDARD_EXTRAS)
    try:
        yield emu
    finally:
        emu.close_clients()


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorHandle]:
    """A fresh emulator of its own for an apply test (projects and teams backend, frontend);
    in-process commands get its token and no SENTRY_URL from the environment."""
    with prepared_emulator(monkeypatch) as handle:
        yield handle


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
