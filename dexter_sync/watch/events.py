"""The watch event: one JSON object per line on stdout and one message on SSE/WebSocket.

Shape (a stable interface, README "Stable interfaces"):
`{"type", "time" (ISO-8601 UTC), "organization", "kind" (str|null), "key" (str|null),
"data" (object)}`. The stream hub adds an `id` (a sequence number) for Last-Event-ID.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core.diagnostics import DexterError

EVENT_TYPES = (
    "drift.detected", "drift.resolved", "apply.succeeded", "apply.failed",
    "issue.new", "issue.regressed", "incident.opened", "incident.resolved",
    "release.deployed", "release.regression", "sentry.unavailable", "sentry.recovered",
)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class WatchEvent:
    type: str
    organization: str
    kind: str | None = None
    key: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=utc_now)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "time": self.time, "organization": self.organization,
                "kind": self.kind, "key": self.key, "data": self.data}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, default=str, separators=(",", ":"))


def as_object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (payload fields Sentry may omit)."""
    return value if isinstance(value, dict) else {}


def parse_types(text: str | Iterable[str] | None) -> frozenset[str] | None:
    """`"drift.*,issue.new"` -> the matching event types; None/empty means every type.
    A name that matches no type is an error (a typo would silently filter everything)."""
    if text is None:
        return None
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    parts = [p for p in parts if p]
    if not parts:
        return None
    chosen: set[str] = set()
    for part in parts:
        matched = ({t for t in EVENT_TYPES if t.startswith(part[:-1])} if part.endswith("*")
                   else {part} & set(EVENT_TYPES))
        if not matched:
            raise DexterError(f"unknown event type {part!r}; known: {', '.join(EVENT_TYPES)} "
                              "(a prefix ending in * selects a family)",
                              code="unknown-event-type")
        chosen |= matched
    return frozenset(chosen)
