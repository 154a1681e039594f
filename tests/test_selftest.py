"""`dexter selftest` against `dexter emulator` served on a port (a subprocess, not in-process):
it passes end to end, cleans up after itself (also when killed or interrupted, the next run
removing the leftovers), never touches an unprefixed object, and a broken emulator habit
fails exactly the check that covers it, with a readable difference."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from dexter_sync.core.directory import Directory
from dexter_sync.selftest.samples import Target, build_samples
from dexter_sync.selftest.sandbox import Sandbox, owns_key
from tests.helpers_watch import terminate

BIN = Path(sys.executable).parent
TOKEN = "selftest-token"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "acme"
PREFIX = "dexter-selftest-"
DEADLINE = 60.0
UPDATED_KINDS = ("metric_alert", "issue_alert", "discover_query", "release", "repository",
                 "code_mapping", "metric_monitor", "uptime_monitor", "cron_monitor", "alert")
SAMPLED_KINDS = (*UPDATED_KINDS, "deploy", "external_issue_link")


class Served:
    """`dexter emulator` in a subprocess, seeded from the example manifests."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api = httpx.Client(base_url=f"{url}/api/0/", timeout=10.0,
                                headers={"Authorization": f"Bearer {TOKEN}"})
        self.admin = httpx.Client(base_url=f"{url}/__emulator__/", timeout=10.0,
                                  headers={"Authorization": f"Bearer {TOKEN}"})

    def get(self, path: str, **params: Any) -> Any:
        response = self.api.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def names(self) -> list[str]:
        """Every name-like field of every object the selftest's kinds can write."""
        found: list[str] = []
        found += [r["name"] for r in self.get("organizations/acme/alert-rules/", per_page=100)]
        for project in self.get("organizations/acme/projects/"):
            found += [r["name"] for r in self.get(f"projects/acme/{project['slug']}/rules/")]
        found += [q["name"] for q in self.get("organizations/acme/discover/saved/")]
        found += [r["version"] for r in self.get("organizations/acme/releases/")]
        found += [r["name"] for r in self.get("organizations/acme/repos/")]
        found += [m["stackRoot"] for m in self.get("organizations/acme/code-mappings/")]
        found += [d["name"] for d in self.get("organizations/acme/detectors/")]
        found += [w["name"] for w in self.get("organizations/acme/workflows/")]
        issue = self.get("organizations/acme/issues/", query="")[0]["id"]
        detail = self.get(f"organizations/acme/issues/{issue}/", expand="integrationIssues")
        found += [link["key"] for link in detail.get("integrationIssues") or []]
        return found

    def prefixed(self) -> list[str]:
        return [name for name in self.names() if PREFIX in name]

    def selftest(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env=env(), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def command(self, *args: str) -> list[str]:
        return [str(BIN / "dexter"), "selftest", "--sentry-url", self.url, "--org", "acme",
                *args]

    def close(self) -> None:
        self.api.close()
        self.admin.close()


def env() -> dict[str, str]:
    return {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN, "NO_COLOR": "1"}


@contextmanager
def served_emulator(tmp_path: Path) -> Iterator[Served]:
    proc = subprocess.Popen(
        [str(BIN / "dexter"), "emulator", "--port", "0", "--db", str(tmp_path / "s.sqlite"),
         "--org", "acme", "--seed-from", str(EXAMPLE)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), text=True)
    served = None
    try:
        served = Served(json.loads(proc.stdout.readline())["url"])
        yield served
    finally:
        if served is not None:
            served.close()
        terminate(proc)
        proc.stdout.close()
        proc.stderr.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with served_emulator(tmp_path) as emulator:
        yield emulator


def checks_of(done: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return json.loads(done.stdout)["checks"]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def selftest_under_way(served: Served) -> Iterator[subprocess.Popen[str]]:
    """A selftest subprocess, yielded once its lifecycle samples exist (a state, not a
    sleep); killed afterwards if the test left it running."""
    proc = subprocess.Popen(served.command(), env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any(name.endswith("-repo/app") for name in served.prefixed()),
                   "the selftest's lifecycle samples to exist")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_selftest_passes_end_to_end_against_a_served_emulator(served: Served) -> None:
    done = served.selftest("--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert set(report) == {"checks", "summary"}
    checks = report["checks"]
    assert all(set(c) == {"name", "kind", "status", "detail"} for c in checks)
    assert [c for c in checks if c["status"] == "fail"] == []
    assert report["summary"]["fail"] == 0
    assert report["summary"]["pass"] == sum(c["status"] == "pass" for c in checks)
    passed = {(c["kind"], c["name"]) for c in checks if c["status"] == "pass"}
    for kind in SAMPLED_KINDS:  # every kind went through create, list and comparison
        assert {(kind, "create"), (kind, "read-list"), (kind, "normalized")} <= passed, kind
    for kind in UPDATED_KINDS:
        assert {(kind, "update"), (kind, "plan-quiet"), (kind, "delete")} <= passed, kind
    for kind in ("metric_alert", "issue_alert", "discover_query", "release", "metric_monitor",
                 "uptime_monitor", "cron_monitor", "alert"):
        assert (kind, "read-detail") in passed, kind
    lifecycle = {(c["kind"], c["name"]) for c in checks if c["name"] == "create"}
    assert {kind for kind, _ in lifecycle} == set(SAMPLED_KINDS)  # every registered kind
    assert {(None, "pagination-link"), (None, "rate-limit-headers"),
            ("external_issue_link", "external-issue-listings"), ("release", "release-208"),
            ("issue_alert", "exact-duplicate-400"), ("metric_alert", "threshold-translation"),
            ("metric_alert", "slack-202-task"), ("metric_alert", "aggregate-display"),
            ("metric_alert", "event-types-detail-only"), ("issue_alert", "issue-rule-read-forms"),
            (None, "sweep-leftovers"), (None, "sweep")} <= passed
    skipped = {(c["kind"], c["name"]): c["detail"] for c in checks if c["status"] == "skip"}
    assert skipped[("deploy", "delete")] == "Sentry cannot delete a deploy; it goes with its release"
    assert served.prefixed() == []


def test_text_output_names_each_check_and_the_totals(served: Served) -> None:
    done = served.selftest("--read-only")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("PASS") and "pagination-link" in line for line in lines)
    assert lines[-1].startswith("selftest of acme (read-only), run ")
    assert " 0 failed" in lines[-1]


def test_read_only_writes_nothing(served: Served) -> None:
    served.admin.delete("counters/").raise_for_status()
    done = served.selftest("--read-only", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = checks_of(done)
    assert {c["name"] for c in checks if c["status"] == "skip" and c["detail"] ==
            "writes; --read-only"} == {"release-208", "exact-duplicate-400",
                                       "threshold-translation", "slack-202-task",
                                       "aggregate-display", "event-types-detail-only",
                                       "issue-rule-read-forms"}
    assert not any(c["name"] in ("create", "delete", "sweep") for c in checks)
    routes = served.admin.get("counters/").json()["routes"]
    assert [route for route in routes if not route.startswith("GET ")] == []


def test_a_broken_emulator_habit_fails_exactly_the_matching_check(served: Served) -> None:
    served.admin.put("quirks/", json={"translate_thresholds": False}).raise_for_status()
    done = served.selftest("--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [c for c in checks_of(done) if c["status"] == "fail"]
    assert [(c["kind"], c["name"]) for c in failed] == [("metric_alert", "threshold-translation")]
    detail = failed[0]["detail"]
    assert "POST /api/0/organizations/acme/alert-rules/" in detail
    assert "triggers[critical].alertThreshold: sent 30, read 130.0" in detail
    assert "REFERENCE.md §1.3" in detail
    assert served.prefixed() == []


def test_a_list_answered_in_another_shape_fails_that_kinds_list_check(served: Served) -> None:
    """Fail closed: the check names the request and the shape it got."""
    served.admin.put("quirks/", json={"discover_list_as_object": True}).raise_for_status()
    done = served.selftest("--read-only", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [c for c in checks_of(done) if c["status"] == "fail"]
    assert [(c["kind"], c["name"]) for c in failed] == [("discover_query", "list")]
    assert failed[0]["detail"] == (
        "request: GET /api/0/organizations/acme/discover/saved/; expected a JSON array "
        "(REFERENCE.md §3.2), got an object with keys ['results']")


def test_a_kind_the_target_does_not_serve_is_skipped_with_the_reason(served: Served) -> None:
    served.admin.put("faults/", json={"error_rate": 1.0, "error_statuses": [404],
                                      "route": "/alert-rules/", "methods": "GET"}
                     ).raise_for_status()
    done = served.selftest("--format", "json")
    metric = [c for c in checks_of(done) if c["kind"] == "metric_alert"
              and c["name"] in ("list", "create", "read-list", "update", "delete")]
    reason = "the target does not serve GET /api/0/organizations/acme/alert-rules/ (404)"
    assert [(c["name"], c["status"], c["detail"]) for c in metric] == [
        (name, "skip", reason) for name in ("list", "create", "read-list", "update", "delete")]
    served.admin.put("faults/", json={"reset": True}).raise_for_status()
    assert served.prefixed() == []


def test_an_unknown_project_is_a_clear_error(served: Served) -> None:
    done = served.selftest("--project", "nope")
    assert done.returncode == 1
    assert "no project 'nope' in organization acme (it has: backend, frontend, mobile)" in done.stderr
    assert "Traceback" not in done.stderr


def test_dexter_plan_fails_closed_on_the_same_broken_shape(served: Served) -> None:
    """A list answered as an object is an error for the client too, never "no objects"
    (read as empty it would plan every declared saved query as a create)."""
    served.admin.put("quirks/", json={"discover_list_as_object": True}).raise_for_status()
    done = subprocess.run([str(BIN / "dexter"), "plan", str(EXAMPLE), "--sentry-url", served.url],
                          env=env(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: GET {served.url}/api/0/organizations/acme/discover/saved/ "
                           "(200")
    assert last.endswith("answered JSON dict where Sentry documents a list; refusing to read "
                         "it as no objects [sentry-unexpected-answer]")


@pytest.mark.slow
def test_killed_mid_run_the_next_run_leaves_no_prefixed_object(served: Served) -> None:
    served.api.post("organizations/acme/discover/saved/", json={
        "name": "Keep me", "version": 2, "fields": ["title"], "projects": []}).raise_for_status()
    served.api.post("organizations/acme/releases/", json={
        "version": "keep@1.0", "projects": ["backend"]}).raise_for_status()
    before = served.names()
    with selftest_under_way(served) as proc:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    left = served.prefixed()
    assert left != []  # the kill left sandbox objects behind
    again = served.selftest("--format", "json")
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    assert report["summary"]["swept"] >= len(left)
    assert served.prefixed() == []
    assert sorted(served.names()) == sorted(before)  # unprefixed objects untouched


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_mid_run_it_cleans_up_before_exiting(served: Served, stop: int) -> None:
    with selftest_under_way(served) as proc:
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert served.prefixed() == []


@pytest.mark.slow
def test_a_second_sigterm_during_the_final_sweep_does_not_stop_it(served: Served) -> None:
    served.admin.put("faults/", json={"latency_ms": 300, "methods": "DELETE"}).raise_for_status()
    with selftest_under_way(served) as proc:
        proc.send_signal(signal.SIGTERM)
        made = set(served.prefixed())
        wait_until(lambda: set(served.prefixed()) < made, "the final sweep to start deleting")
        assert served.prefixed() != []  # the sweep is still under way ...
        proc.send_signal(signal.SIGTERM)  # ... when the second signal arrives
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    served.admin.put("faults/", json={"reset": True}).raise_for_status()
    assert served.prefixed() == []


def test_sandbox_ownership_needs_the_prefix_and_a_run_id_at_a_segment_start() -> None:
    assert owns_key("backend/dexter-selftest-0a1b2c3d-issue")
    assert owns_key("dexter-selftest-0a1b2c3d-repo/app")
    assert owns_key("dexter-selftest-0a1b2c3d")
    assert not owns_key("backend/Old dexter-selftest-0a1b2c3d-issue")
    assert not owns_key("dexter-selftest-notarun-x")
    assert not owns_key("dexter-selftest-0a1b2c3d9-x")
    assert not owns_key("backend/my rule")


def test_a_kind_without_a_sample_is_skipped_with_the_reason() -> None:
    target = Target(sandbox=Sandbox("0a1b2c3d"), directory=Directory("acme"),
                    project=None, team=None, member=None, environment=None, issue=None)
    samples, skipped = build_samples(target, ["discover_query", "monitor"])
    assert samples == {}
    assert skipped == {
        "discover_query": "the organization has no project",
        "monitor": "no sample entry for kind 'monitor' (dexter_sync/selftest/samples.py)"}
