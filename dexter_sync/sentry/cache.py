"""A small TTL cache for composite reads (watch polls, issue context), with hit/miss counts.

Writes through the facade clear it: a read after a write never sees the state before it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TTLCache:
    ttl: float = 5.0
    clock: Callable[[], float] = time.monotonic
    max_entries: int = 1024
    hits: int = 0
    misses: int = 0
    _entries: dict[Hashable, tuple[float, Any]] = field(default_factory=dict)

    def get(self, key: Hashable) -> tuple[bool, Any]:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self.clock():
            self.hits += 1
            return True, entry[1]
        if entry is not None:
            del self._entries[key]
        self.misses += 1
        return False, None

    def put(self, key: Hashable, value: Any, *, ttl: float | None = None) -> None:
        if len(self._entries) >= self.max_entries:
            now = self.clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (self.clock() + (self.ttl if ttl is None else ttl), value)

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[Any]], *,
                          ttl: float | None = None) -> Any:
        found, value = self.get(key)
        if found:
            return value
        value = await load()
        self.put(key, value, ttl=ttl)
        return value

    def clear(self) -> None:
        self._entries.clear()
