"""Where an event goes: stdout (one JSON line), the stream hub (SSE/WebSocket), the Slack
notifier, and the counters. `--events` decides which types go anywhere at all."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol, TextIO

from .events import WatchEvent
from .hub import EventHub
from .state import WatchState


class Sink(Protocol):
    def offer(self, event: WatchEvent) -> None: ...


ONCE_TYPES = frozenset({"issue.new", "issue.regressed", "incident.opened", "incident.resolved"})
"""Types both the poll and a webhook can report: the second report of one is dropped."""
ONCE_WINDOW = 3600.0
ONCE_KEEP = 10_000


class OnceFilter:
    """Remembers (type, kind, key) of ONCE_TYPES events for an hour (bounded)."""

    def __init__(self, window: float = ONCE_WINDOW, keep: int = ONCE_KEEP) -> None:
        self.window = window
        self.keep = keep
        self._seen: OrderedDict[tuple[str, str | None, str | None], float] = OrderedDict()

    def first(self, event: WatchEvent) -> bool:
        if event.type not in ONCE_TYPES:
            return True
        now = time.monotonic()
        while self._seen and (len(self._seen) > self.keep
                              or next(iter(self._seen.values())) < now - self.window):
            self._seen.popitem(last=False)
        key = (event.type, event.kind, event.key)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class Emitter:
    def __init__(self, state: WatchState, out: TextIO, hub: EventHub, *,
                 types: frozenset[str] | None = None, sinks: tuple[Sink, ...] = ()) -> None:
        self.state = state
        self.out = out
        self.hub = hub
        self.types = types
        self.sinks = sinks
        self.once = OnceFilter()

    def wants(self, event_type: str) -> bool:
        return self.types is None or event_type in self.types

    def emit(self, event: WatchEvent) -> None:
        if not self.wants(event.type) or not self.once.first(event):
            return
        self.state.events_by_type[event.type] += 1
        self.out.write(event.to_json() + "\n")
        self.out.flush()
        self.hub.publish(event)
        for sink in self.sinks:
            sink.offer(event)  # never blocks: sinks queue and work on their own
