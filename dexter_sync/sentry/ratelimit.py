"""A per-endpoint rate limiter that reads Sentry's rate-limit headers (REFERENCE §3.3).

Sentry limits each endpoint (route + method) with a fixed window and announces, on every
answer, `X-Sentry-Rate-Limit-Limit`, `-Remaining`, `-Reset` (epoch seconds) and, where the
endpoint has one, `-ConcurrentLimit` / `-ConcurrentRemaining`. The limiter stops *before*
Sentry says 429: it sends while the window's remaining budget, less the requests in flight,
allows, then waits for the reset and starts the next window there (the windows are fixed, so
spreading requests over a window only loses time); it caps in-flight requests at the
concurrent limit. After a 429 it blocks the endpoint until the reset (or `Retry-After`), so
the retry that follows does not hit the wall again.

`EndpointBudget` is a small state machine over an injectable clock (kopf's throttler habit):
unit tests drive it with a fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from .errors import RateLimitWaitTooLong

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

UNKNOWN_RESET_POLL = 0.05
"""How long to wait when the budget is spent but the window's end is unknown."""
CONCURRENCY_BACKOFF = 0.1
"""Block after a 429 that was about concurrency (the window itself still had budget)."""
MAX_WAIT = 60.0
"""Default cap on one rate-limit wait (seconds): longer waits fail with `rate-limited`."""
ANNOUNCE_AFTER = 1.0
"""Waits longer than this are announced (what is waited for, and how long)."""


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass
class EndpointBudget:
    """What Sentry told us about one endpoint's current window, and what is in flight.

    The budget left to send is `remaining - in_flight`: `remaining` is the lowest count
    Sentry announced for this window (it only falls as requests arrive), and every request
    in flight may still be counted in it. A request Sentry counted before its answer came
    back is subtracted twice for a moment; its answer ends that, so the error only delays a
    send, never causes a 429.
    """

    limit: int | None = None
    remaining: float | None = None
    """Requests left in the current window as Sentry last said (None: not limited, or not
    known yet); requests in flight are not deducted here (see `headroom`)."""
    reset: float | None = None
    """Epoch seconds when the current window ends (None: unknown)."""
    concurrent_limit: int | None = None
    in_flight: int = 0
    sent: int = 0
    """Requests sent so far (a sequence number for `release`)."""
    window: float | None = None
    """Length of the rate-limit window, learned from consecutive reset times."""
    seen_reset: float | None = None
    """The latest reset time an answer announced."""
    blocked_until: float = 0.0
    answered: bool = False
    """Whether any answer came back yet: until then one request at a time (slow start), so
    an opening burst cannot overrun limits we have not heard of."""

    def headroom(self) -> float | None:
        """Requests that may still be sent in this window (None: no known limit)."""
        return None if self.remaining is None else self.remaining - self.in_flight

    def delay(self, now: float) -> float:
        """Seconds to wait before the next request may be sent (0: send now, if there is
        headroom; else wait for a request in flight to finish, `has_slot`)."""
        if now < self.blocked_until:
            return self.blocked_until - now
        if self.reset is not None and now >= self.reset:
            # The window ended: the next one starts at its reset with the full limit; the
            # requests still in flight may land in it, and `headroom` counts them. With the
            # window's length known, the new window's end is known too.
            self.remaining = float(self.limit) if self.limit is not None else None
            if self.window:
                self.reset += self.window * (math.floor((now - self.reset) / self.window) + 1)
            else:
                self.reset = None
        if self.remaining is None or self.remaining >= 1:
            # Sentry's windows are fixed: the whole budget may go at once (spreading it over
            # the window only loses time).
            return 0.0
        return (self.reset - now) if self.reset is not None else UNKNOWN_RESET_POLL

    def has_slot(self) -> bool:
        if not self.answered:
            return self.in_flight < 1
        headroom = self.headroom()
        if headroom is not None and headroom < 1:
            return False
        return self.concurrent_limit is None or self.in_flight < self.concurrent_limit

    def on_send(self, now: float) -> int:
        self.sent += 1
        self.in_flight += 1
        return self.sent

    def on_done(self, headers: Mapping[str, str], seq: int, now: float) -> None:
        """Learn from a response (any status) to the request with sequence number `seq`."""
        self.in_flight = max(0, self.in_flight - 1)
        if headers:
            self.answered = True
        limit = _number(headers, "x-sentry-rate-limit-limit")
        remaining = _number(headers, "x-sentry-rate-limit-remaining")
        reset = _number(headers, "x-sentry-rate-limit-reset")
        concurrent = _number(headers, "x-sentry-rate-limit-concurrentlimit")
        if concurrent is not None and concurrent > 0:
            self.concurrent_limit = int(concurrent)
        if limit is None or remaining is None:
            return
        self.limit = int(limit)
        if reset is not None and reset <= now:
            return  # a late answer from a window that is over says nothing about this one
        if reset is not None and (self.reset is None or reset > self.reset):
            if self.seen_reset is not None and reset > self.seen_reset:
                step = reset - self.seen_reset
                self.window = step if self.window is None else min(self.window, step)
            self.seen_reset = reset
            self.reset, self.remaining = reset, remaining  # a newer window
        elif reset is None or reset == self.reset:
            # Sentry's count only grows within a window: the lowest remaining is the newest
            self.remaining = remaining if self.remaining is None else min(self.remaining,
                                                                          remaining)
        # else: an answer from an older window

    def on_rate_limited(self, until: float | None, headers: Mapping[str, str], now: float) -> None:
        """Sentry said 429: block until `until` (Retry-After or the window reset)."""
        remaining = _number(headers, "x-sentry-rate-limit-remaining")
        if remaining is not None and remaining > 0:
            # The concurrency cap, not the window, was hit: back off briefly, send fewer.
            self.blocked_until = max(self.blocked_until, now + CONCURRENCY_BACKOFF)
            self.concurrent_limit = max(1, (self.concurrent_limit or self.in_flight + 1) - 1)
            return
        if until is None or until <= now:
            until = now + CONCURRENCY_BACKOFF
        self.blocked_until = max(self.blocked_until, until)
        self.remaining, self.reset = 0.0, until


@dataclass
class RateLimiter:
    """Per-endpoint budgets, and the waiting that enforces them."""

    clock: Clock = time.time
    sleep: Sleep = asyncio.sleep
    pacing: bool = True
    """False: ignore announced budgets and concurrency caps (the embedded emulator announces
    limits it does not enforce); a 429 still blocks the endpoint until its reset."""
    max_wait: float = MAX_WAIT
    """A single wait longer than this raises RateLimitWaitTooLong instead of sleeping."""
    announce: Callable[[str], None] | None = None
    """Told about each wait longer than ANNOUNCE_AFTER (the CLI prints it on stderr)."""
    budgets: dict[str, EndpointBudget] = field(default_factory=dict)
    waited: float = 0.0
    """Total seconds spent waiting for a budget (for metrics)."""
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _freed: dict[str, asyncio.Event] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None

    def budget(self, key: str) -> EndpointBudget:
        return self.budgets.setdefault(key, EndpointBudget())

    async def acquire(self, key: str) -> int:
        """Wait until `key` may send; returns the ticket to pass to `release`."""
        budget = self.budget(key)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # asyncio primitives belong to one loop; budgets do not
            self._loop, self._locks, self._freed = loop, {}, {}
        lock = self._locks.setdefault(key, asyncio.Lock())
        freed = self._freed.setdefault(key, asyncio.Event())
        async with lock:  # one sender at a time per endpoint keeps the pacing in order
            while True:
                now = self.clock()
                wait = budget.delay(now) if self.pacing else budget.blocked_until - now
                if wait > 0:
                    self._before_waiting(key, wait)
                    self.waited += wait
                    await self.sleep(wait)
                    continue
                if not self.pacing or budget.has_slot():
                    return budget.on_send(now)
                freed.clear()
                # a finished request frees a slot or headroom; the window's reset frees
                # headroom too, even if nothing finishes before it
                timeout = budget.reset - now if budget.reset is not None else None
                try:
                    await asyncio.wait_for(freed.wait(), timeout)
                except TimeoutError:
                    pass

    def _before_waiting(self, key: str, wait: float) -> None:
        if wait > self.max_wait:
            raise RateLimitWaitTooLong(key, wait, self.max_wait)
        if wait > ANNOUNCE_AFTER and self.announce is not None:
            self.announce(f"waiting {wait:.1f}s for Sentry's rate limit on {key} "
                          "(the window's reset, or the Retry-After Sentry sent)")

    def release(self, key: str, ticket: int, headers: Mapping[str, str]) -> None:
        """A request finished (any status, or none): learn from its headers, free its slot."""
        self.budget(key).on_done(headers, ticket, self.clock())
        event = self._freed.get(key)
        if event is not None:
            event.set()

    def rate_limited(self, key: str, until: float | None, headers: Mapping[str, str]) -> None:
        self.budget(key).on_rate_limited(until, headers, self.clock())
