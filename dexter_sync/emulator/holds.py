"""Holding a route until released: requests that match wait inside the emulator.

A test that must act while writes are in flight (SIGKILL a client mid-apply, a lost answer
at a chosen moment) sets a hold, waits until the admin endpoint reports `held` requests,
acts, then releases them. It waits on that state, never on a fixed sleep.

`stage` says where a request waits: "before" its handler (nothing committed yet; on release
the write still lands, as a write the server had already received would) or "after" it (the
write is committed and only the answer waits). The first `after` matching requests pass;
every later one is held. A hold lets go by itself after `timeout` seconds so nothing hangs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

STAGES = ("before", "after")
POLL_SECONDS = 0.005


@dataclass
class HoldSettings:
    route: str | None = None  # substring of the path; None = every route
    methods: str | None = None  # comma-separated methods ("POST"); None = every method
    after: int = 0  # matching requests let through before the hold starts
    stage: str = "before"
    timeout: float = 60.0


class RouteHolds:
    """The hold switch, its counts (`matched`, `held` now, `released`) and the release."""

    def __init__(self) -> None:
        self.settings: HoldSettings | None = None
        self.matched = 0
        self.held = 0
        self.released = 0
        self._generation = 0

    def set(self, changes: dict[str, Any]) -> None:
        """A new hold (replacing any earlier one; requests held by it are released)."""
        unknown = set(changes) - set(HoldSettings.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown hold settings: {', '.join(sorted(unknown))}")
        settings = HoldSettings(**changes)
        if settings.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}")
        if not isinstance(settings.after, int) or settings.after < 0:
            raise ValueError("after must be a whole number >= 0")
        if not isinstance(settings.timeout, (int, float)) or not 0 < settings.timeout <= 600:
            raise ValueError("timeout must be in (0, 600] seconds")
        self.release()
        self.settings = settings
        self.matched = self.released = 0

    def release(self) -> None:
        """Let every held request go on and stop holding new ones."""
        self.settings = None
        self._generation += 1

    def snapshot(self) -> dict[str, Any]:
        return {"hold": asdict(self.settings) if self.settings else None,
                "matched": self.matched, "held": self.held, "released": self.released}

    def _matches(self, method: str, path: str, stage: str) -> bool:
        s = self.settings
        if s is None or s.stage != stage or (s.route and s.route not in path):
            return False
        wanted = {m.strip().upper() for m in (s.methods or "").split(",") if m.strip()}
        return not wanted or method.upper() in wanted

    async def wait(self, method: str, path: str, stage: str) -> None:
        """Return at once unless this request is to be held; then wait for the release."""
        if not self._matches(method, path, stage):
            return
        assert self.settings is not None
        self.matched += 1
        if self.matched <= self.settings.after:
            return
        generation, deadline = self._generation, time.monotonic() + self.settings.timeout
        self.held += 1
        try:
            # polling a counter works on whichever event loop serves the app
            while self._generation == generation and time.monotonic() < deadline:
                await asyncio.sleep(POLL_SECONDS)
        finally:
            self.held -= 1
            self.released += 1
