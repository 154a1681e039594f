"""Single-flight: concurrent identical GETs share one request.

The first caller starts the call as a task; callers that arrive while it is in flight await
the same task (shielded, so one caller's cancellation does not cancel the others). The key
is forgotten as soon as the call ends: this is deduplication, not caching.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SingleFlight:
    calls: int = 0
    """Calls that really ran."""
    shared: int = 0
    """Callers served by a call another caller started."""
    _inflight: dict[Hashable, asyncio.Task[Any]] = field(default_factory=dict)

    async def do(self, key: Hashable, fn: Callable[[], Awaitable[Any]]) -> Any:
        task = self._inflight.get(key)
        if task is None:
            self.calls += 1
            task = asyncio.ensure_future(fn())
            self._inflight[key] = task
            task.add_done_callback(functools.partial(self._forget, key))
        else:
            self.shared += 1
        return await asyncio.shield(task)

    def _forget(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # marks it retrieved: waiters re-raise it themselves
