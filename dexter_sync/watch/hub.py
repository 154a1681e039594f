"""The stream hub: fan events out to SSE/WebSocket subscribers without ever blocking.

Each subscriber has a bounded queue; when it is full the oldest message is dropped and the
subscriber's `dropped` counter (and the hub's total) goes up, so one slow client never
delays the loop or the others. The last `history` events are kept for `Last-Event-ID`
resume.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from .events import WatchEvent

QUEUE_SIZE = 1000
HISTORY = 1000


@dataclass(frozen=True)
class StreamMessage:
    id: int
    type: str
    json: str
    sse: bytes
    """The Server-Sent Events frame, encoded once for every subscriber."""


@dataclass(eq=False)
class Subscriber:
    types: frozenset[str] | None
    size: int = QUEUE_SIZE
    dropped: int = 0
    _queue: deque[StreamMessage] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def wants(self, message: StreamMessage) -> bool:
        return self.types is None or message.type in self.types

    def offer(self, message: StreamMessage) -> bool:
        """Queue a message; returns False when an old one had to be dropped for it."""
        kept = True
        if len(self._queue) >= self.size:
            self._queue.popleft()
            self.dropped += 1
            kept = False
        self._queue.append(message)
        self._ready.set()
        return kept

    async def next(self, timeout: float | None = None) -> StreamMessage | None:
        """The next message, or None after `timeout` seconds (a keep-alive tick) or once
        the subscriber is closed."""
        while not self._queue:
            if self.closed:
                return None
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return None
        return self._queue.popleft()

    def drain(self) -> list[StreamMessage]:
        """Everything queued now (a stream writes a burst in one send)."""
        messages = list(self._queue)
        self._queue.clear()
        return messages

    def close(self) -> None:
        self.closed = True
        self._ready.set()


class EventHub:
    def __init__(self, *, queue_size: int = QUEUE_SIZE, history: int = HISTORY) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscriber] = set()
        self.history: deque[StreamMessage] = deque(maxlen=history)
        self.last_id = 0
        self.dropped = 0

    def publish(self, event: WatchEvent) -> StreamMessage:
        self.last_id += 1
        body = event.as_dict()
        body["id"] = self.last_id
        text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
        frame = f"id: {self.last_id}\nevent: {event.type}\ndata: {text}\n\n".encode()
        message = StreamMessage(self.last_id, event.type, text, frame)
        self.history.append(message)
        for subscriber in list(self.subscribers):
            if subscriber.wants(message) and not subscriber.offer(message):
                self.dropped += 1
        return message

    def subscribe(self, types: frozenset[str] | None, *, after: int | None = None
                  ) -> Subscriber:
        """A new subscriber; with `after` (a Last-Event-ID) it first gets the kept history
        newer than that id."""
        subscriber = Subscriber(types, self.queue_size)
        if after is not None:
            for message in self.replay(after):
                if subscriber.wants(message):
                    subscriber.offer(message)
        self.subscribers.add(subscriber)
        return subscriber

    def replay(self, after: int) -> Iterator[StreamMessage]:
        return (m for m in self.history if m.id > after)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.close()
        self.subscribers.discard(subscriber)

    def close(self) -> None:
        for subscriber in list(self.subscribers):
            self.unsubscribe(subscriber)
