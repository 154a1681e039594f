"""The emulator's state: one SQLite database of JSON documents, plus its audit log.

Every object is a row `(kind, id, org, scope, data)`: `org` is the organization id, `scope`
the project id for project-scoped kinds ("" otherwise) and `data` the stored record as JSON
(the record, not the API response: serializers in the route modules shape responses).
One connection guarded by a lock: the app runs on one event loop, but tests and the admin
thread may touch the store from another thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, id INTEGER NOT NULL, org TEXT NOT NULL, scope TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS objects_by_scope ON objects (kind, org, scope, id);
CREATE INDEX IF NOT EXISTS objects_by_org ON objects (kind, org, id);
CREATE TABLE IF NOT EXISTS sequences (kind TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, org TEXT NOT NULL, data TEXT NOT NULL);
"""

# First id of each kind, so ids of different kinds never coincide (a client mixing up a
# project id and a team id then gets a 404 instead of silently touching the wrong object).
ID_BASES = {
    "org": 4505000000000000, "project": 4505100000000000, "team": 1000, "user": 2000,
    "member": 3000, "integration": 24000, "repo": 5000, "environment": 100,
    "metric_rule": 170000, "trigger": 180000, "action": 190000, "issue_rule": 12000,
    "saved_query": 900, "release": 1, "deploy": 600, "code_mapping": 800,
    "external_issue": 40, "issue": 6000000, "event": 1, "project_key": 70,
    "slack_channel": 1, "task": 1, "file": 1, "workflow": 2300000, "detector": 3400000,
    "dcg": 4100000, "data_condition": 5200000, "wf_action": 6300000, "data_source": 7400,
    "data_source_object": 8500,
}


def now_iso() -> str:
    """Sentry's timestamp format: ISO-8601 UTC with microseconds and `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """A small document store over sqlite3; all methods are thread-safe."""

    def __init__(self, db_path: str = ":memory:") -> None:
        if db_path != ":memory:":
            parent = os.path.dirname(os.path.abspath(db_path))
            os.makedirs(parent, exist_ok=True)
        self.db_path = db_path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        if db_path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._in_tx = 0
        # write generations per kind: read caches (snapshots, serialized rows) key on them
        self._generations: Counter[str] = Counter()
        self._wipes = 0
        self._snapshots: dict[tuple[str, str], tuple[tuple[int, int], list[dict[str, Any]]]] = {}
        self.extra_tables: set[str] = set()
        """Tables other modules keep in this database (eventtable.py); wiped with the rest."""

    def generation(self, kind: str) -> tuple[int, int]:
        """Changes whenever a record of `kind` is written (or the store is wiped)."""
        return (self._wipes, self._generations[kind])

    def ids(self, kind: str, org: str, *, scope: str | Iterable[str] | None = None
            ) -> list[int]:
        """Ids of one kind, highest first, cached until the kind is written: offset pages of
        big lists slice this instead of making SQLite skip rows."""
        scope_key = scope if scope is None or isinstance(scope, str) else tuple(scope)
        key = ("#ids", kind, str(org), scope_key)
        gen = self.generation(kind)
        cached = self._snapshots.get(key)  # type: ignore[arg-type]
        if cached is None or cached[0] != gen:
            sql, args = self._where(kind, org, scope)
            with self._lock:
                rows = self._db.execute("SELECT id FROM objects" + sql + " ORDER BY id DESC",
                                        args).fetchall()
            cached = (gen, [row[0] for row in rows])
            self._snapshots[key] = cached  # type: ignore[index]
        return cached[1]  # type: ignore[return-value]

    def raw_by_ids(self, kind: str, ids: list[int]) -> list[str]:
        """Stored JSON text of the given records, in the order of `ids` (missing skipped)."""
        rows = self.rows_by_ids(kind, ids)
        return [rows[i] for i in ids if i in rows]

    def rows_by_ids(self, kind: str, ids: list[int]) -> dict[int, str]:
        """`{id: stored JSON text}` of the given records that exist."""
        if not ids:
            return {}
        with self._lock:
            return dict(self._db.execute(
                f"SELECT id, data FROM objects WHERE kind=? AND id IN "
                f"({','.join('?' * len(ids))})", [kind, *ids]).fetchall())

    def snapshot(self, kind: str, org: int | str) -> list[dict[str, Any]]:
        """All records of a small kind in an org, cached until the kind is written.
        Shared objects: callers must not mutate them (copy the one they change)."""
        key = (kind, str(org))
        gen = self.generation(kind)
        cached = self._snapshots.get(key)
        if cached is None or cached[0] != gen:
            cached = (gen, self.query(kind, org))
            self._snapshots[key] = cached
        return cached[1]

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """The raw connection under the store's lock, for modules that keep their own
        tables in this database (the Discover events table, eventtable.py)."""
        with self._lock:
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes atomically (nested uses join the outer one)."""
        with self._lock:
            if self._in_tx:
                self._in_tx += 1
                try:
                    yield
                finally:
                    self._in_tx -= 1
                return
            self._db.execute("BEGIN")
            self._in_tx = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._in_tx = 0

    # -- ids -------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM sequences WHERE kind=?", (kind,)).fetchone()
            value = (row[0] + 1) if row else ID_BASES.get(kind, 1)
            self._db.execute(
                "INSERT INTO sequences(kind, value) VALUES(?, ?) "
                "ON CONFLICT(kind) DO UPDATE SET value=excluded.value", (kind, value))
            return value

    # -- objects ---------------------------------------------------------------------
    def insert(self, kind: str, org: str, data: dict[str, Any], *, scope: str = "") -> dict[str, Any]:
        """Store a new record; assigns `data["id"]` (int) unless the caller set one."""
        with self._lock:
            if "id" not in data:
                data["id"] = self.next_id(kind)
            self._db.execute(
                "INSERT INTO objects(kind, id, org, scope, data) VALUES(?, ?, ?, ?, ?)",
                (kind, int(data["id"]), str(org), str(scope), json.dumps(data)))
            self._generations[kind] += 1
        return data

    def put(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Replace the stored record with the same id."""
        with self._lock:
            self._db.execute("UPDATE objects SET data=? WHERE kind=? AND id=?",
                             (json.dumps(data), kind, int(data["id"])))
            self._generations[kind] += 1
        return data

    def delete(self, kind: str, object_id: int) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM objects WHERE kind=? AND id=?",
                                   (kind, int(object_id)))
            self._generations[kind] += 1
            return cur.rowcount > 0

    def get(self, kind: str, object_id: int | str, *, org: str | None = None) -> dict[str, Any] | None:
        try:
            key = int(object_id)
        except (TypeError, ValueError):
            return None
        if not -(2**63) <= key < 2**63:
            return None
        with self._lock:
            if org is None:
                row = self._db.execute("SELECT data FROM objects WHERE kind=? AND id=?",
                                       (kind, key)).fetchone()
            else:
                row = self._db.execute(
                    "SELECT data FROM objects WHERE kind=? AND id=? AND org=?",
                    (kind, key, str(org))).fetchone()
        return json.loads(row[0]) if row else None

    def query(self, kind: str, org: int | str | None = None, *, scope: str | Iterable[str] | None = None,
              descending: bool = False, limit: int | None = None, offset: int = 0,
              before_id: int | None = None) -> list[dict[str, Any]]:
        """Records of one kind, ordered by id; `before_id` keeps ids < it (descending walks)."""
        return [json.loads(raw) for raw in self.query_raw(
            kind, org, scope=scope, descending=descending, limit=limit, offset=offset,
            before_id=before_id)]

    def query_raw(self, kind: str, org: int | str | None = None, *,
                  scope: str | Iterable[str] | None = None, descending: bool = False,
                  limit: int | None = None, offset: int = 0,
                  before_id: int | None = None) -> list[str]:
        """Like `query`, but the stored JSON text of each record (list endpoints render
        from it through a cache keyed on the text, see views.py)."""
        return [raw for _, raw in self.query_rows(
            kind, org, scope=scope, descending=descending, limit=limit, offset=offset,
            before_id=before_id)]

    def query_rows(self, kind: str, org: int | str | None = None, *,
                   scope: str | Iterable[str] | None = None, descending: bool = False,
                   limit: int | None = None, offset: int = 0,
                   before_id: int | None = None) -> list[tuple[int, str]]:
        """`(id, stored JSON text)` of each record, ordered by id."""
        sql, args = self._where(kind, org, scope)
        if before_id is not None:
            sql += " AND id < ?"
            args.append(before_id)
        sql += " ORDER BY id DESC" if descending else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [limit, offset]
        with self._lock:
            return self._db.execute("SELECT id, data FROM objects" + sql, args).fetchall()

    def count(self, kind: str, org: str | None = None, *,
              scope: str | Iterable[str] | None = None) -> int:
        sql, args = self._where(kind, org, scope)
        with self._lock:
            return cast("int", self._db.execute("SELECT COUNT(*) FROM objects" + sql, args).fetchone()[0])

    def find(self, kind: str, org: str | None = None, *, scope: str | None = None,
             **match: Any) -> list[dict[str, Any]]:
        """Records whose top-level fields equal `match` (small kinds; scans in Python)."""
        return [r for r in self.query(kind, org, scope=scope)
                if all(r.get(k) == v for k, v in match.items())]

    @staticmethod
    def _where(kind: str, org: int | str | None, scope: str | Iterable[str] | None
               ) -> tuple[str, list[Any]]:
        sql, args = " WHERE kind=?", [kind]
        if org is not None:
            sql += " AND org=?"
            args.append(str(org))
        if isinstance(scope, str):
            sql += " AND scope=?"
            args.append(scope)
        elif scope is not None:
            scopes = [str(s) for s in scope]
            sql += f" AND scope IN ({','.join('?' * len(scopes))})" if scopes else " AND 0"
            args += scopes
        return sql, args

    # -- audit log -------------------------------------------------------------------
    def audit(self, org: str, *, actor: dict[str, Any] | None, event: str, target: Any,
              data: dict[str, Any] | None = None, note: str = "") -> dict[str, Any]:
        entry = {"actor": actor, "event": event, "targetObject": target,
                 "data": data or {}, "note": note, "dateCreated": now_iso()}
        with self._lock:
            cur = self._db.execute("INSERT INTO audit(org, data) VALUES(?, ?)",
                                   (str(org), json.dumps(entry)))
            entry["id"] = cur.lastrowid
        return entry

    def audit_entries(self, org: str, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, data FROM audit WHERE org=? ORDER BY id DESC LIMIT ? OFFSET ?",
                (str(org), limit, offset)).fetchall()
        return [{**json.loads(data), "id": row_id} for row_id, data in rows]


    def wipe(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM objects; DELETE FROM sequences; DELETE FROM audit;"
                                   + "".join(f"DELETE FROM {t};" for t in sorted(self.extra_tables)))
            self._wipes += 1
            self._snapshots.clear()

    # -- seeding (the embedded mode and the tests name objects; see seeding.py) --------
    def ensure_names(self, organization: str, **names: Any) -> dict[str, list[Any]]:
        """Create the organization and the named objects that are missing (idempotent)."""
        from .seeding import ensure_names

        return ensure_names(self, organization, **names)
