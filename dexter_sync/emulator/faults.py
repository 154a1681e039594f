"""Fault injection: latency, 5xx answers, dropped connections, slow and lost responses.

A dropped connection is raised as `ConnectionDropped`, a subclass of httpx's
RemoteProtocolError: under uvicorn the server closes the socket mid-response (the client
sees the peer hang up); through httpx's ASGI transport the client gets the same transport
error a real network would give it.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

from .config import FaultSettings

WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


class ConnectionDropped(httpx.RemoteProtocolError):
    """The emulator hangs up on purpose (an injected fault)."""

    def __init__(self, message: str = "connection dropped by the emulator (injected fault)"):
        super().__init__(message)


@dataclass
class FaultPlan:
    """What happens to one request, decided up front."""

    delay: float = 0.0
    error_status: int | None = None
    drop: bool = False
    lose_response: str | None = None  # None, "502" or "drop"


def _method_set(methods: str) -> set[str]:
    return {m.strip().upper() for m in methods.split(",") if m.strip()}


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._seed = settings.seed

    def reseed(self) -> None:
        """Restart the dice from the configured seed (after every settings change)."""
        self._rng, self._seed = random.Random(self.settings.seed), self.settings.seed

    def plan(self, method: str, path: str) -> FaultPlan:
        s = self.settings
        if s.seed != self._seed:  # a new seed through the admin endpoint restarts the dice
            self._rng, self._seed = random.Random(s.seed), s.seed
        if s.route and s.route not in path:
            return FaultPlan()
        if s.methods and method.upper() not in _method_set(s.methods):
            return FaultPlan()
        rng = self._rng
        plan = FaultPlan()
        delay_ms = s.latency_ms + (rng.uniform(0, s.jitter_ms) if s.jitter_ms else 0)
        if s.slow_rate and rng.random() < s.slow_rate:
            delay_ms += s.slow_ms
        plan.delay = delay_ms / 1000
        if s.drop_rate and rng.random() < s.drop_rate:
            plan.drop = True
        elif s.error_rate and rng.random() < s.error_rate:
            plan.error_status = rng.choice(list(s.error_statuses) or [500])
        elif (s.lost_response_rate and method in WRITE_METHODS
              and rng.random() < s.lost_response_rate):
            plan.lose_response = "drop" if s.lost_response_mode == "drop" else "502"
        return plan

    @staticmethod
    async def wait(plan: FaultPlan) -> None:
        if plan.delay > 0:
            await asyncio.sleep(plan.delay)


ERROR_BODIES = {
    500: {"detail": "Internal Error", "errorId": None},
    502: {"detail": "Bad Gateway"},
    503: {"detail": "Service Unavailable"},
}
