"""The pending-task record (dexter_sync/apply/pending.py): what an apply leaves for the next
run when it dies while Sentry's rule task runs. Written atomically under a lock, read back
exactly, and never written over when it is not dexter's."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dexter_sync.apply.pending import (RECORD_ENV, RECORD_PATH, PendingTask, PendingTaskRecord,
                                       record_path)
from dexter_sync.core.diagnostics import DexterError

SENTRY = "https://sentry.example.com"


def record(tmp_path: Path, sentry: str = SENTRY) -> PendingTaskRecord:
    return PendingTaskRecord(tmp_path / RECORD_PATH, sentry)


def add(target: PendingTaskRecord, key: str, organization: str = "acme") -> PendingTask:
    return target.add(organization, kind="metric_alert", key=key, project="backend",
                      uuid=f"uuid-{key}")


def test_entries_are_read_back_per_sentry_and_organization(tmp_path):
    ours, other_sentry = record(tmp_path), record(tmp_path, "http://127.0.0.1:9000")
    before = time.time()
    paged = add(ours, "paged")
    add(ours, "elsewhere", organization="other-org")
    theirs = add(other_sentry, "paged")
    assert ours.tasks("acme") == [paged]
    assert other_sentry.tasks("acme") == [theirs]
    assert before <= paged.started <= time.time()
    assert (paged.address, paged.project, paged.uuid) == ("metric_alert/paged", "backend",
                                                          "uuid-paged")
    ours.remove(paged)  # the entries of another Sentry and organization stay
    assert ours.tasks("acme") == [] and ours.tasks("other-org") != []
    assert other_sentry.tasks("acme") == [theirs]


def test_a_write_is_recorded_before_its_answer_and_then_with_its_task(tmp_path):
    target = record(tmp_path)
    sent = target.add("acme", kind="issue_alert", key="backend/paged", project="backend",
                      uuid=None)
    assert target.tasks("acme") == [sent]  # answer not come back: no uuid yet
    answered = target.add("acme", kind="issue_alert", key="backend/paged",
                          project="backend", uuid="abc", replacing=sent)
    assert target.tasks("acme") == [answered]
    assert answered.started >= sent.started


def test_the_file_goes_once_its_last_entry_is_removed(tmp_path):
    target = record(tmp_path)
    first, second = add(target, "a"), add(target, "b")
    document = json.loads(target.path.read_text())
    assert (document["written_by"], document["version"]) == ("dexter apply", 1)
    assert [t["key"] for t in document["tasks"]] == ["a", "b"]
    target.remove(first)
    target.remove(second)
    assert not target.path.exists()
    assert target.tasks("acme") == []
    assert [p.name for p in target.path.parent.iterdir()
            if not p.name.endswith(".lock")] == []  # no temporary file left behind


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not valid JSON"),
    ('{"tasks": []}', "not a record written by dexter apply"),
    ('{"written_by": "dexter apply", "version": 7, "tasks": []}', "format version 7"),
    ('{"written_by": "dexter apply", "version": 1, "tasks": {}}', "`tasks` is not a list"),
    ('{"written_by": "dexter apply", "version": 1, "tasks": [{"key": "x"}]}',
     "task entry 1 is damaged"),
])
def test_a_file_dexter_cannot_read_is_a_clear_error_and_never_written_over(
        tmp_path, content, reason):
    target = record(tmp_path)
    target.path.parent.mkdir(parents=True)
    target.path.write_text(content)
    with pytest.raises(DexterError) as caught:
        target.tasks("acme")
    assert caught.value.code == "pending-tasks-file"
    assert str(caught.value).startswith(f"{target.path}: {reason}")
    assert str(caught.value).endswith("(or move it away once Sentry has no such task running)")
    add(target, "paged")  # a run that meets it mid-apply only warns
    assert target.path.read_text() == content


def test_an_unreadable_path_is_a_clear_error(tmp_path):
    target = record(tmp_path)
    target.path.mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(DexterError) as caught:
        target.tasks("acme")
    assert caught.value.code == "pending-tasks-file"
    assert "cannot be read" in str(caught.value)


def test_the_file_lives_under_the_manifest_root_unless_the_environment_names_one(
        tmp_path, monkeypatch):
    monkeypatch.delenv(RECORD_ENV, raising=False)
    assert record_path(tmp_path / "m") == tmp_path / "m" / ".dexter" / "pending-tasks.json"
    assert record_path(None) == Path(".dexter") / "pending-tasks.json"
    monkeypatch.setenv(RECORD_ENV, str(tmp_path / "cache" / "tasks.json"))
    assert record_path(tmp_path / "m") == tmp_path / "cache" / "tasks.json"


def test_a_reader_never_sees_a_half_written_file(tmp_path):
    """Each write replaces the file by a rename: a concurrent reader finds the old file, the
    new one, or none, never a torn one."""
    target = record(tmp_path)
    for key in range(20):  # a file of some size, so that a torn write would show
        add(target, f"rule-{key:02d}-" + "x" * 200)
    done = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not done.is_set():
            seen.append(len(target.tasks("acme")))  # raises on a torn file

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(100):
            add(target, "churn")
            target.remove(target.tasks("acme")[-1])
    finally:
        done.set()
        reader.join(timeout=30)
    assert not reader.is_alive()
    assert seen and set(seen) <= {20, 21}


WRITER = """
import sys
from pathlib import Path
from dexter_sync.apply.pending import PendingTaskRecord
target = PendingTaskRecord(Path(sys.argv[1]), "https://sentry.example.com")
for n in range(25):
    target.add("acme", kind="metric_alert", key=f"{sys.argv[2]}-{n}", project="backend",
               uuid=f"{sys.argv[2]}-{n}")
"""


def test_concurrent_runs_lose_no_entry(tmp_path):
    target = record(tmp_path)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(target.path), name])
               for name in ("first", "second")]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    keys = sorted(t.key for t in target.tasks("acme"))
    assert keys == sorted(f"{name}-{n}" for name in ("first", "second") for n in range(25))
