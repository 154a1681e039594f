"""Hourly counts of the events table, so that a grouped `count()` over a long period adds a
few thousand hourly rows instead of scanning a million events.

A row counts the events of one hour with the same project, event type, release,
environment and level. Inserts add rows (one per group of each insert); the bulk generator
compacts them afterwards. A query is answered from here when it only counts, groups by and
filters on those dimensions (discover_engine.py): the whole hours inside its period come
from this table, the partial hours at both ends from the events table.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Sequence
from typing import Any

ROLLUP = "discover_rollup"
HOUR_MS = 3_600_000
DIMENSIONS = frozenset({"project_id", "type", "release", "environment", "level"})
SCHEMA = (f"CREATE TABLE IF NOT EXISTS {ROLLUP} (org TEXT NOT NULL, hour INTEGER NOT NULL, "
          "project_id INTEGER NOT NULL, type TEXT NOT NULL, release TEXT, environment TEXT, "
          "level TEXT, n INTEGER NOT NULL)")
INDEX = f"CREATE INDEX IF NOT EXISTS {ROLLUP}_by_hour ON {ROLLUP} (org, hour)"
INSERT = (f"INSERT INTO {ROLLUP} (org, hour, project_id, type, release, environment, level, n)"
          " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def create(db: sqlite3.Connection) -> None:
    db.execute(SCHEMA)
    db.execute(INDEX)


def add(db: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> None:
    """Count `rows` (events-table tuples in eventtable.COLUMNS order) into hourly rows."""
    counts = Counter((r[0], r[4] // HOUR_MS * HOUR_MS, r[1], r[5], r[7], r[6], r[8])
                     for r in rows)
    db.executemany(INSERT, [(*key, n) for key, n in counts.items()])


def compact(db: sqlite3.Connection) -> None:
    """One row per (hour, dimensions): merges what separate inserts added."""
    db.execute(f"CREATE TEMP TABLE rollup_compact AS SELECT org, hour, project_id, type, "
               f"release, environment, level, SUM(n) AS n FROM {ROLLUP} GROUP BY org, hour, "
               "project_id, type, release, environment, level")
    db.execute(f"DELETE FROM {ROLLUP}")
    db.execute(f"INSERT INTO {ROLLUP} SELECT * FROM rollup_compact")
    db.execute("DROP TABLE rollup_compact")


def hour_split(start_ms: int, end_ms: int) -> tuple[int, int] | None:
    """The whole hours `[first, last)` inside `[start, end)`, or None when there are none."""
    first = -(-start_ms // HOUR_MS) * HOUR_MS
    last = end_ms // HOUR_MS * HOUR_MS
    return (first, last) if first < last else None
