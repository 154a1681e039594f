"""The Discover events table: one flat SQLite row per stored event (errors and transactions),
beside the document store, so that the events endpoints aggregate in SQL over a million rows.

Columns hold what Discover filters and groups on most (project, time, type, environment,
release, level, transaction, user); other tags and numeric measurements stay in JSON
columns. Covering indexes lead with the organization and the common group-by column, so a
grouped count over a period reads one index and never the table.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import eventrollup
from .store import Store

TABLE = "discover_events"
TABLE_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY, org TEXT NOT NULL, project_id INTEGER NOT NULL,
    event_id TEXT NOT NULL, group_id INTEGER, ts INTEGER NOT NULL, type TEXT NOT NULL,
    environment TEXT, release TEXT, level TEXT, platform TEXT, title TEXT, message TEXT,
    txn TEXT, user TEXT, user_id TEXT, user_email TEXT, duration REAL,
    tags TEXT NOT NULL DEFAULT '{{}}', measurements TEXT)"""
# Covering indexes: counts over a time range (the partial hours beside the hourly rollup,
# eventrollup.py) read the time index and never the table; a release's numbers (its
# issues) read the release index in group order; issue-alert frequency checks read the
# group index.
TIME_INDEX = f"{TABLE}_by_time"
INDEXES = {
    TIME_INDEX: "(org, ts, project_id, type, release, environment, level)",
    f"{TABLE}_by_release": "(org, release, ts, project_id, type, group_id)",
    f"{TABLE}_by_group": "(group_id, ts)",
}
CACHE_KIB = 65536
"""SQLite page cache for the store's connection once events are kept (the default 2 MiB
makes every index insert and grouped scan of a large table go to the file)."""
COLUMNS = ("org", "project_id", "event_id", "group_id", "ts", "type", "environment",
           "release", "level", "platform", "title", "message", "txn", "user", "user_id",
           "user_email", "duration", "tags", "measurements")
INSERT = (f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
          f"VALUES ({', '.join('?' * len(COLUMNS))})")


@dataclass
class EventRow:
    """One event as the events endpoints see it (times in epoch milliseconds)."""

    org: str
    project_id: int
    event_id: str
    ts: int
    type: str  # "error", "default" or "transaction"
    group_id: int | None = None
    environment: str | None = None
    release: str | None = None
    level: str | None = None
    platform: str | None = None
    title: str | None = None
    message: str | None = None
    transaction: str | None = None
    user: str | None = None  # Sentry's `user` tag form: "id:42", "email:a@b"
    user_id: str | None = None
    user_email: str | None = None
    duration: float | None = None  # transaction.duration, milliseconds
    tags: dict[str, str] = field(default_factory=dict)
    measurements: dict[str, float] | None = None

    def values(self) -> tuple[Any, ...]:
        return (self.org, self.project_id, self.event_id, self.group_id, self.ts, self.type,
                self.environment, self.release, self.level, self.platform, self.title,
                self.message, self.transaction, self.user, self.user_id, self.user_email,
                self.duration, json.dumps(self.tags, separators=(",", ":")),
                json.dumps(self.measurements) if self.measurements else None)


def ensure_table(store: Store) -> None:
    if TABLE in store.extra_tables:
        return
    with store.connection() as db:  # execute, not executescript: that commits a transaction
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        db.execute("PRAGMA temp_store = MEMORY")  # GROUP BY sorts in memory, not a file
        db.execute(TABLE_SCHEMA)
        create_indexes(db)
        eventrollup.create(db)
    store.extra_tables.update((TABLE, eventrollup.ROLLUP))


def create_indexes(db: sqlite3.Connection) -> None:
    for name, columns in INDEXES.items():
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {columns}")


def drop_indexes(db: sqlite3.Connection) -> None:
    for name in INDEXES:
        db.execute(f"DROP INDEX IF EXISTS {name}")


def insert_rows(store: Store, rows: Iterable[EventRow] | Iterable[Sequence[Any]]) -> int:
    """Insert rows (EventRow or tuples in `COLUMNS` order) in one transaction."""
    ensure_table(store)
    values = [r.values() if isinstance(r, EventRow) else tuple(r) for r in rows]
    with store.transaction(), store.connection() as db:
        db.executemany(INSERT, values)
        eventrollup.add(db, values)
    return len(values)


def count_rows(store: Store, org: str) -> int:
    ensure_table(store)
    with store.connection() as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE org=?", (org,)).fetchone()[0])


# -- SDK events -> rows ---------------------------------------------------------------------

def event_time_ms(event: dict[str, Any], received_ms: int) -> int:
    """The event's own timestamp (float seconds or ISO-8601), else when it was received."""
    stamp = event.get("timestamp")
    try:
        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
            return int(float(stamp) * 1000)
        if isinstance(stamp, str) and stamp:
            text = stamp[:-1] + "+00:00" if stamp.endswith("Z") else stamp
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
    except (ValueError, OverflowError):
        pass
    return received_ms


def _user_fields(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    user = event.get("user")
    if not isinstance(user, dict):
        return None, None, None
    uid = str(user["id"]) if user.get("id") is not None else None
    email = str(user["email"]) if user.get("email") else None
    ip = str(user["ip_address"]) if user.get("ip_address") else None
    tag = f"id:{uid}" if uid else f"email:{email}" if email else f"ip:{ip}" if ip else None
    return tag, uid, email


def _measurements(event: dict[str, Any]) -> dict[str, float] | None:
    raw = event.get("measurements")
    if not isinstance(raw, dict):
        return None
    out: dict[str, float] = {}
    for name, value in raw.items():
        number = value.get("value") if isinstance(value, dict) else value
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            out[str(name)] = float(number)
    return out or None


def row_from_event(event: dict[str, Any], *, org: str, project_id: int, event_id: str, received_ms: int,
                   kind: str, group_id: int | None, title: str, message: str,
                   tags: list[list[str]]) -> EventRow:
    """The row of an ingested SDK event (`kind` "error"/"default") or transaction."""
    user, user_id, user_email = _user_fields(event)
    duration = None
    if kind == "transaction":
        end = event_time_ms(event, received_ms)
        start = event_time_ms({"timestamp": event.get("start_timestamp")}, end)
        duration = float(max(end - start, 0))
    tag_map = {k: v for k, v in tags}
    trace = (event.get("contexts") or {}).get("trace") if isinstance(
        event.get("contexts"), dict) else None
    if kind == "transaction" and isinstance(trace, dict) and trace.get("status"):
        tag_map.setdefault("transaction.status", str(trace["status"]))
    return EventRow(
        org=org, project_id=project_id, event_id=event_id, group_id=group_id,
        ts=event_time_ms(event, received_ms), type=kind,
        environment=_text(event.get("environment")), release=_text(event.get("release")),
        level=_text(event.get("level")) or ("info" if kind == "transaction" else "error"),
        platform=_text(event.get("platform")), title=title, message=message,
        transaction=_text(event.get("transaction")), user=user, user_id=user_id,
        user_email=user_email, duration=duration, tags=tag_map,
        measurements=_measurements(event))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
