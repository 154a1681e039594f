"""What the daemon knows about itself, read by /healthz, /metrics and (later) a status page.

One object, updated by the loop only; readers never change it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WatchState:
    organization: str
    interval: float
    started_at: float = field(default_factory=time.time)
    cycles: int = 0
    failed_cycles: int = 0
    consecutive_failures: int = 0
    last_cycle_at: float | None = None
    last_cycle_seconds: float = 0.0
    cycle_seconds_total: float = 0.0
    unavailable: bool = False
    """True from `sentry.unavailable` until `sentry.recovered`."""
    unavailable_reason: str | None = None
    drift: dict[str, dict[str, Any]] = field(default_factory=dict)
    """`kind/key` -> the drifting change, as in drift.detected."""
    events_by_type: Counter[str] = field(default_factory=Counter)
    loop_alive: bool = False
    stopping: bool = False

    @property
    def drift_count(self) -> int:
        return len(self.drift)

    def health(self) -> tuple[bool, str]:
        """(healthy, reason) for /healthz."""
        if not self.loop_alive:
            return False, "the watch loop is not running"
        if self.unavailable:
            return False, (f"Sentry unreachable for {self.consecutive_failures} cycles: "
                           f"{self.unavailable_reason}")
        return True, "ok"

    def summary(self) -> dict[str, Any]:
        healthy, reason = self.health()
        return {"organization": self.organization, "healthy": healthy, "reason": reason,
                "cycles": self.cycles, "failed_cycles": self.failed_cycles,
                "last_cycle_at": self.last_cycle_at, "drift": self.drift_count,
                "events": dict(self.events_by_type), "interval": self.interval}
