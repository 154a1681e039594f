"""The watch daemon's parts in process: the hub never lets a slow subscriber hold up the
others (drop-oldest, counted), replays history after a Last-Event-ID; state-change dedup;
event-type selection; webhook signatures and payload mapping; Block Kit messages; the
CLI's errors for bad flags."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from dexter_sync.core.diagnostics import DexterError
from dexter_sync.watch.daemon import parse_address
from dexter_sync.watch.emitter import OnceFilter
from dexter_sync.watch.events import WatchEvent, parse_types
from dexter_sync.watch.hub import EventHub
from dexter_sync.watch.notify import block_kit
from dexter_sync.watch.tracker import ChangeTracker
from dexter_sync.watch.webhooks import sign, to_events, verify
from tests.helpers_watch import write_manifests

BIN = Path(sys.executable).parent


def _event(n: int, kind: str = "issue.new") -> WatchEvent:
    return WatchEvent(kind, "acme", "issue", f"BACKEND-{n}", {"n": n})


@pytest.mark.anyio
async def test_a_slow_subscriber_drops_its_oldest_and_never_delays_the_others() -> None:
    hub = EventHub(queue_size=5)
    slow, fast = hub.subscribe(None), hub.subscribe(None)
    received: list[int] = []

    async def read_fast() -> None:
        while len(received) < 20:
            message = await fast.next(timeout=5)
            assert message is not None
            received.append(json.loads(message.json)["data"]["n"])

    reader = asyncio.ensure_future(read_fast())
    for n in range(20):
        hub.publish(_event(n))
        await asyncio.sleep(0)  # the fast reader keeps up; the slow one never reads
    await asyncio.wait_for(reader, 5)
    assert received == list(range(20))
    assert (slow.dropped, fast.dropped, hub.dropped) == (15, 0, 15)
    kept = [json.loads((await slow.next(timeout=1)).json)["data"]["n"]  # type: ignore[union-attr]
            for _ in range(5)]
    assert kept == [15, 16, 17, 18, 19]  # the newest survive


@pytest.mark.anyio
async def test_history_replays_after_last_event_id_with_the_filter() -> None:
    hub = EventHub(history=3)
    for n in range(5):
        hub.publish(_event(n, "issue.new" if n % 2 else "drift.detected"))
    everything = hub.subscribe(None, after=0)
    ids = []
    while (message := await everything.next(timeout=0.01)) is not None:
        ids.append(message.id)
    assert ids == [3, 4, 5]  # only the kept history
    issues = hub.subscribe(frozenset({"issue.new"}), after=3)
    message = await issues.next(timeout=0.01)
    assert message is not None and (message.id, message.type) == (4, "issue.new")
    assert await issues.next(timeout=0.01) is None
    hub.close()
    assert hub.subscribers == set() and issues.closed


def test_tracker_reports_each_change_of_state_once() -> None:
    tracker: ChangeTracker[str] = ChangeTracker()
    first = tracker.update({"a": "1"})
    assert (first.appeared, first.changed, first.gone) == (["a"], [], [])
    same = tracker.update({"a": "1"})
    assert (same.appeared, same.changed, same.gone) == ([], [], [])
    moved = tracker.update({"a": "2", "b": "1"})
    assert (moved.appeared, moved.changed, moved.gone) == (["b"], ["a"], [])
    gone = tracker.update({"b": "1"})
    assert (gone.appeared, gone.changed, gone.gone) == ([], [], ["a"])


def test_the_same_incident_from_poll_and_webhook_is_emitted_once() -> None:
    once = OnceFilter()
    opened = WatchEvent("incident.opened", "acme", "incident", "12")
    assert once.first(opened) is True
    assert once.first(WatchEvent("incident.opened", "acme", "incident", "12")) is False
    assert once.first(WatchEvent("incident.resolved", "acme", "incident", "12")) is True
    drift = WatchEvent("drift.detected", "acme", "metric_alert", "x")
    assert once.first(drift) is True and once.first(drift) is True  # drift dedups itself


def test_event_types_select_families_and_refuse_typos() -> None:
    assert parse_types(None) is None and parse_types(" , ") is None
    assert parse_types("drift.*,issue.new") == {"drift.detected", "drift.resolved", "issue.new"}
    with pytest.raises(DexterError) as error:
        parse_types("drift.detectd")
    assert error.value.code == "unknown-event-type"


def test_serve_addresses_default_to_loopback() -> None:
    assert parse_address("8787") == ("127.0.0.1", 8787)
    assert parse_address(":0") == ("127.0.0.1", 0)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    with pytest.raises(DexterError):
        parse_address("localhost:http")


def test_signatures_are_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"action":"created"}'
    good = sign("s3cret", body)
    assert len(good) == 64 and good == good.lower()
    assert verify("s3cret", body, good)
    assert not verify("s3cret", body + b"\n", good)
    assert not verify("s3cret", body, None)
    assert not verify(None, body, good)  # no secret configured: nothing is trusted
    assert not verify("s3cret", body, "sha256=" + good)


def test_webhook_payloads_map_to_events_and_unknown_ones_are_ignored() -> None:
    issue = {"id": "5", "shortId": "WEB-5", "title": "boom", "substatus": "regressed",
             "project": {"slug": "web"}}
    created = to_events("issue", {"action": "created", "data": {"issue": issue}}, "acme")
    assert [(e.type, e.key) for e in created or []] == [("issue.new", "WEB-5")]
    back = to_events("issue", {"action": "unresolved", "data": {"issue": issue}}, "acme")
    assert [e.type for e in back or []] == ["issue.regressed"]
    resolved = to_events("metric_alert", {"action": "resolved", "data": {
        "metric_alert": {"identifier": "3"}}}, "acme")
    assert [(e.type, e.key) for e in resolved or []] == [("incident.resolved", "3")]
    assert to_events("installation", {"action": "created", "data": {}}, "acme") == []
    assert to_events("issue", {"action": "assigned", "data": {"issue": issue}}, "acme") == []
    assert to_events("issue", ["not", "an", "envelope"], "acme") is None


def test_block_kit_message_names_the_change() -> None:
    event = WatchEvent("drift.detected", "acme", "metric_alert", "Errors", {
        "action": "update", "file": "alerts.yaml:3:5", "changed_by": "bob@example.com",
        "changed_at": "2026-01-01T00:00:00Z",
        "diff": [{"path": "triggers.critical.threshold", "before": 250, "after": 100}]})
    message = block_kit(event)
    assert message["text"] == "Drift detected: metric_alert/Errors"
    section = message["blocks"][1]["text"]["text"]
    assert "`triggers.critical.threshold`: 250 → 100" in section
    assert "bob@example.com" in section and "`alerts.yaml:3:5`" in section


def _dexter(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "dexter"), *args], capture_output=True, text=True,
                          timeout=60, check=False, cwd=cwd)


def test_bad_flags_are_clear_errors(tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path / "m")
    bad = _dexter("watch", str(manifests), "--interval", "soon", cwd=tmp_path)
    assert bad.returncode == 1 and "[bad-duration]" in bad.stderr
    assert "Traceback" not in bad.stderr
    typo = _dexter("watch", str(manifests), "--events", "drift.everything", cwd=tmp_path)
    assert typo.returncode == 1 and "[unknown-event-type]" in typo.stderr


def test_a_busy_serve_port_is_a_clear_error(tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path / "m")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _dexter("watch", str(manifests), "--serve", f"127.0.0.1:{port}",
                       "--interval", "1h", cwd=tmp_path)
    assert done.returncode == 1 and "[serve-failed]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.anyio
async def test_a_new_release_is_compared_at_most_every_check_and_reported_once() -> None:
    from dexter_sync.core.release_compare import ReleaseNumbers, compare
    from dexter_sync.watch.regression import RegressionWatcher

    errors = {"1.0": 20, "2.0": 20}  # per 1,000 events; 2.0 degrades later
    asked: list[tuple[str, str]] = []
    now = [0.0]

    async def compare_versions(base: str, candidate: str):  # the pure verdict, real numbers
        asked.append((base, candidate))
        return compare(ReleaseNumbers(base, 1000, errors[base]),
                       ReleaseNumbers(candidate, 1000, errors[candidate]))

    watcher = RegressionWatcher("acme", compare_versions, check_every=60.0,
                                clock=lambda: now[0])
    one = {"version": "1.0", "projects": [{"slug": "backend"}]}
    two = {"version": "2.0", "projects": [{"slug": "backend"}]}
    other = {"version": "web-1", "projects": [{"slug": "web"}]}
    assert await watcher.events([one]) == []  # the baseline: not a candidate
    assert await watcher.events([other, two, one]) == []  # compared: ok
    assert asked == [("1.0", "2.0")]  # web-1 shares no project with an older release
    errors["2.0"] = 200
    now[0] = 30.0
    assert await watcher.events([other, two, one]) == []  # too soon to ask again
    now[0] = 61.0
    found = await watcher.events([other, two, one])
    assert [(e.type, e.key, e.data["previous"]) for e in found] == [
        ("release.regression", "2.0", "1.0")]
    now[0] = 200.0
    assert await watcher.events([other, two, one]) == []  # reported once
    assert len(asked) == 2
