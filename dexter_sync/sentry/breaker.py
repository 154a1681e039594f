"""A circuit breaker per host: stop hammering a Sentry that is failing, probe it later.

    closed --N consecutive failures--> open --cool-down elapsed--> half-open
    half-open --probe succeeds--> closed;  half-open --probe fails--> open (new cool-down)

Open means fail fast with CircuitOpenError. In half-open one probe request is let through
and the others fail fast until it answers. Failures are 5xx answers and requests that got no
answer; a 4xx (including 429) is an answer from a healthy server. Consecutive failures are
counted per side (reads, writes): a healthy read does not clear a run of failed writes, so a
write outage opens the breaker while reads still succeed. State changes are logged and
counted. The clock is injectable so tests need no sleeping.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from .errors import CircuitOpenError, SentryError

log = logging.getLogger(__name__)


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


@dataclass
class CircuitBreaker:
    host: str
    failure_threshold: int = 10
    cooldown: float = 10.0
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    opened_after: int = 0
    """Consecutive failures that opened the breaker last."""
    probing: bool = False
    last_failure: str | None = None
    """What the last failure was (already redacted), so the open-breaker error says why."""
    last_error: SentryError | None = None
    """The last failure itself: a connection error is what the user needs to hear."""
    transitions: dict[str, int] = field(default_factory=dict)
    """`closed->open` etc. -> count."""
    streaks: dict[str, int] = field(default_factory=dict)
    """Consecutive failures per side ("read", "write")."""
    on_change: Callable[[BreakerState, BreakerState], None] | None = None

    def before_call(self) -> bool:
        """Allow a request or raise CircuitOpenError. Returns True when it is the probe."""
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.cooldown:
                raise self._open_error()
            self._move(BreakerState.HALF_OPEN)
        if self.state is BreakerState.HALF_OPEN:
            if self.probing:
                raise self._open_error()
            self.probing = True
            return True
        return False

    def on_success(self, probe: bool = False, *, side: str = "read") -> None:
        """Any healthy answer closes the breaker (`probe`: it was the half-open probe)."""
        self.streaks[side] = 0
        self.failures = max(self.streaks.values())
        if probe:
            self.probing = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def on_failure(self, probe: bool = False, *, reason: str | None = None,
                   error: SentryError | None = None, side: str = "read") -> None:
        self.streaks[side] = self.streaks.get(side, 0) + 1
        self.failures = self.streaks[side]
        if reason:
            self.last_failure = reason
        self.last_error = error
        if probe:
            self.probing = False
        probe_failed = self.state is BreakerState.HALF_OPEN and probe
        too_many = self.state is BreakerState.CLOSED and self.failures >= self.failure_threshold
        if probe_failed or too_many:
            self._open()

    def on_abandoned(self, probe: bool = False) -> None:
        """The call ended without a verdict (cancelled): if it was the probe, allow another."""
        if probe:
            self.probing = False

    def _open(self) -> None:
        self.opened_at = self.clock()
        self.opened_after = self.failures
        self._move(BreakerState.OPEN)

    def _open_error(self) -> CircuitOpenError:
        left = max(0.0, self.cooldown - (self.clock() - self.opened_at))
        return CircuitOpenError(self.host, failures=self.opened_after, retry_in=left,
                                last_failure=self.last_failure, last_error=self.last_error)

    def _move(self, new: BreakerState) -> None:
        old, self.state = self.state, new
        name = f"{old.value}->{new.value}"
        self.transitions[name] = self.transitions.get(name, 0) + 1
        # INFO, not WARNING: the error or the apply report says so when the breaker stopped
        # work; a log line on every failing run would only repeat it (-v shows it).
        log.info("circuit breaker for %s: %s (after %d consecutive failures)",
                 self.host, name, self.failures)
        if self.on_change is not None:
            self.on_change(old, new)
