"""Per-endpoint rate limiting as Sentry's middleware does it, and request counters.

A limit applies to one route template + method (Sentry limits each endpoint apart): a
fixed window of `limit` requests per `window` seconds and at most `concurrency` requests in
flight. Every API response carries the five `X-Sentry-Rate-Limit-*` headers; a refusal is
a bare 429 with Sentry's text and no `Retry-After` (REFERENCE.md §3.3).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import RateLimitSettings

# What the headers announce when no limit is configured: generous, so that a client pacing
# itself from the headers never slows down against an unlimited emulator.
DEFAULT_LIMIT = 10000
DEFAULT_WINDOW = 1
DEFAULT_CONCURRENCY = 1000


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    body: dict[str, str] | None = None


@dataclass
class _Window:
    start: float = 0.0
    used: int = 0


@dataclass
class RateLimiter:
    settings: RateLimitSettings
    clock: Callable[[], float] = time.time
    _windows: dict[str, _Window] = field(default_factory=dict)
    _in_flight: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str) -> Decision:
        """Count one request against `key`; the caller must `release(key)` when allowed."""
        s = self.settings
        override = s.overrides.get(key, {}) if s.enabled else {}
        limit_set = override.get("limit", s.limit)
        conc_set = override.get("concurrency", s.concurrency)
        enforce_rate = s.enabled and limit_set > 0
        enforce_conc = s.enabled and conc_set > 0
        limit = limit_set if enforce_rate else DEFAULT_LIMIT
        window = max(override.get("window", s.window), 1) if enforce_rate else DEFAULT_WINDOW
        concurrency = conc_set if enforce_conc else DEFAULT_CONCURRENCY
        now = self.clock()
        start = math.floor(now / window) * window
        with self._lock:
            win = self._windows.setdefault(key, _Window(start))
            if win.start != start:  # a new window (or a changed window length)
                win.start, win.used = start, 0
            win.used += 1
            in_flight = self._in_flight[key]
            over_rate = enforce_rate and win.used > limit
            over_conc = enforce_conc and in_flight >= concurrency
            if not over_rate and not over_conc:
                self._in_flight[key] += 1
                in_flight += 1
        headers = {
            "X-Sentry-Rate-Limit-Limit": str(limit),
            "X-Sentry-Rate-Limit-Remaining": str(max(limit - win.used, 0)),
            "X-Sentry-Rate-Limit-Reset": str(int(start + window)),
            "X-Sentry-Rate-Limit-ConcurrentLimit": str(concurrency),
            "X-Sentry-Rate-Limit-ConcurrentRemaining": str(max(concurrency - in_flight, 0)),
        }
        if over_rate:
            return Decision(False, headers, {"detail": (
                "You are attempting to use this endpoint too frequently. "
                f"Limit is {limit} requests in {window} seconds")})
        if over_conc:
            return Decision(False, headers, {"detail": (
                "You are attempting to go above the allowed concurrency for this endpoint. "
                f"Concurrency limit is {concurrency}")})
        return Decision(True, headers)

    def release(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1
            if self._in_flight[key] <= 0:
                del self._in_flight[key]

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


@dataclass
class RequestCounters:
    """Requests per route template + method + status, refusals by the limiter, and when the
    first and the last answer went out (epoch seconds: a benchmark splits a client's run
    into its start-up, its requests and what it did after the last answer)."""

    counts: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    clock: Callable[[], float] = time.time
    first_at: float | None = None
    last_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, template: str, status: int) -> None:
        now = self.clock()
        with self._lock:
            self.counts[(method, template, status)] += 1
            if self.first_at is None:
                self.first_at = now
            self.last_at = now

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            items = sorted(self.counts.items())
            first_at, last_at = self.first_at, self.last_at
        routes: dict[str, dict[str, int]] = {}
        for (method, template, status), n in items:
            routes.setdefault(f"{method} {template}", {})[str(status)] = n
        return {"total": sum(n for _, n in items),
                "rate_limited": sum(n for (_, _, s), n in items if s == 429),
                "routes": routes, "first_at": first_at, "last_at": last_at}

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.first_at = self.last_at = None
