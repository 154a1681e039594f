"""The record of Sentry rule tasks an apply started and has not yet seen end.

A Slack rule create answered 202 `{"uuid"}` is finished by Sentry in the background. Should
the apply that received the 202 die before the task ends (SIGKILL, a cancelled CI job), the
next run would find no rule and POST again: a duplicate. So the task is written here before
it is polled, and removed once it has succeeded or failed; the next apply settles whatever
is left before it plans (earlier_tasks.py). A create that may be answered so is written
here before it is sent, without a uuid: a run that dies before the answer comes leaves the
next run a write that may have started a task.

The file is `<manifest root>/.dexter/pending-tasks.json`, or the file DEXTER_PENDING_TASKS
names (a CI cache, say). Each write replaces it atomically (a temporary file, fsync'd, then
renamed) under a lock shared by concurrent runs. Entries of other Sentry servers and
organizations are kept as they are. A file dexter did not write, or cannot read, is an
error naming it (`pending-tasks-file`), and is never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from filelock import FileLock, Timeout

from ..core.diagnostics import DexterError

log = logging.getLogger(__name__)

RECORD_PATH = Path(".dexter") / "pending-tasks.json"
RECORD_ENV = "DEXTER_PENDING_TASKS"
WRITTEN_BY = "dexter apply"
FORMAT_VERSION = 1
LOCK_TIMEOUT = 30.0


@dataclass(frozen=True)
class PendingTask:
    sentry: str
    """The Sentry base URL the task runs on."""
    organization: str
    kind: str
    key: str
    project: str
    """The project whose task endpoint reports on it."""
    uuid: str | None
    """None: the write was sent and its answer has not come back (yet)."""
    started: float
    """Wall-clock time the write was sent, or its 202 came back (seconds since the epoch)."""

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.key}"


def record_path(manifest_root: str | Path | None) -> Path:
    """DEXTER_PENDING_TASKS, else `.dexter/pending-tasks.json` under the manifest root."""
    named = os.environ.get(RECORD_ENV)
    return Path(named) if named else Path(manifest_root or ".") / RECORD_PATH


def _unusable(path: Path, why: str) -> DexterError:
    return DexterError(f"{path}: {why}; it lists Sentry rule tasks earlier applies left "
                       "pending, so nothing is created until it is readable again. Check it "
                       "(or move it away once Sentry has no such task running)",
                       code="pending-tasks-file")


def _parse(path: Path, text: str) -> list[PendingTask]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise _unusable(path, f"not valid JSON ({error})") from error
    if not isinstance(document, dict) or document.get("written_by") != WRITTEN_BY:
        raise _unusable(path, f"not a record written by {WRITTEN_BY}")
    if document.get("version") != FORMAT_VERSION:
        raise _unusable(path, f"format version {document.get('version')!r}, this dexter "
                              f"reads version {FORMAT_VERSION}")
    entries = document.get("tasks")
    if not isinstance(entries, list):
        raise _unusable(path, "`tasks` is not a list")
    names = [f.name for f in fields(PendingTask)]
    tasks = []
    for number, entry in enumerate(entries, 1):
        valid = isinstance(entry, dict) and set(entry) == set(names) and all(
            isinstance(entry[name], (int, float) if name == "started" else
                       (str, type(None)) if name == "uuid" else str)
            for name in names)
        if not valid:
            raise _unusable(path, f"task entry {number} is damaged")
        tasks.append(PendingTask(**{**entry, "started": float(entry["started"])}))
    return tasks


class PendingTaskRecord:
    """The record file, seen by a run that talks to the Sentry at `sentry`."""

    def __init__(self, path: Path, sentry: str) -> None:
        self.path = path
        self.sentry = sentry
        self._lock = FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)

    def _read(self) -> list[PendingTask]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as error:
            raise _unusable(self.path, f"cannot be read ({error})") from error
        return _parse(self.path, text)

    def tasks(self, organization: str) -> list[PendingTask]:
        """This Sentry's and organization's entries. Raises DexterError when the file is
        unusable."""
        return [t for t in self._read()
                if t.sentry == self.sentry and t.organization == organization]

    def add(self, organization: str, *, kind: str, key: str, project: str,
            uuid: str | None, replacing: PendingTask | None = None) -> PendingTask:
        """Record a task that just started (durably, before anyone polls it), or a write
        about to be sent (`uuid` None); `replacing` the entry of an earlier step of it."""
        task = PendingTask(self.sentry, organization, kind, key, project, uuid, time.time())
        self._change(lambda tasks: [*(t for t in tasks if t != replacing), task],
                     f"record the task {uuid or '(not yet answered)'} of {task.address}")
        return task

    def remove(self, task: PendingTask) -> None:
        """Forget a task that has ended (or a write that started none)."""
        self._change(lambda tasks: [t for t in tasks if t != task],
                     f"forget the task {task.uuid or '(none)'} of {task.address}")

    def _change(self, edit: Callable[[list[PendingTask]], list[PendingTask]],
                what: str) -> None:
        """Read, edit and replace the file under the lock. A failure is logged, not raised:
        it happens mid-apply, after the write was sent, and the task is still followed;
        only the protection against a killed run is lost (an entry left behind is settled
        by the next run)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                self._write(edit(self._read()))
        except (DexterError, OSError, Timeout) as error:
            log.warning("could not %s in %s: %s", what, self.path, error)

    def _write(self, tasks: list[PendingTask]) -> None:
        if not tasks:
            self.path.unlink(missing_ok=True)  # ours: _read accepted it
            return
        document = {"written_by": WRITTEN_BY, "version": FORMAT_VERSION,
                    "tasks": [asdict(t) for t in tasks]}
        handle, temporary = tempfile.mkstemp(prefix=".pending-tasks-", suffix=".tmp",
                                             dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, indent=2)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_directory(self.path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
