"""Two `dexter apply --auto-approve` processes of the same manifests at the same time against
one served `dexter emulator`, again and again: every round ends with zero duplicates and every
object present, a run exits 3 exactly when it reports the concurrent run, and the race is
really exercised (some round reports it). Counted through the emulator's API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest

from tests.test_apply_sigkill import DEXTER, TOKEN, Served, served  # noqa: F401 (fixture)
from tests.test_apply_support import duplicates, live_names, plan_only, write_manifests

ROUNDS = 4
QUERIES, METRIC, ISSUE = 6, 6, 4


def _apply(served: Served, manifests) -> subprocess.Popen:  # noqa: F811
    env = {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN}
    env.pop("SENTRY_URL", None)
    return subprocess.Popen(
        [*DEXTER, "apply", str(manifests), "--auto-approve", "--sentry-url", served.url,
         "--concurrency", "4", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def expected_names() -> set[str]:
    return ({f"q-{i:04d}" for i in range(QUERIES)} | {f"m-{i:04d}" for i in range(METRIC)}
            | {f"i-{i:04d}" for i in range(ISSUE)})


@pytest.mark.slow
def test_two_applies_at_once_converge_with_no_duplicates(served, tmp_path,  # noqa: F811
                                                         monkeypatch):
    manifests = write_manifests(tmp_path / "m", queries=QUERIES, metric=METRIC, issue=ISSUE)
    reported = 0
    for round_ in range(ROUNDS):
        served.admin("POST", "reset/")
        # latency widens the window in which both runs have planned and neither has created
        served.admin("PUT", "faults/", json={"latency_ms": 80})
        runs = [_apply(served, manifests), _apply(served, manifests)]
        for proc in runs:
            out, err = proc.communicate(timeout=120)
            report = json.loads(out)
            assert report["summary"]["failed"] == 0, (round_, err, report)
            assert report["summary"]["not_attempted"] == 0, (round_, err)
            assert proc.returncode == (3 if report["concurrent"] else 0), (round_, err)
            reported += bool(report["concurrent"])
        names = live_names(served)
        assert duplicates(names) == {}, (round_, names)
        assert set(names) == expected_names()
    assert reported >= 1, "the two applies never overlapped: the race was not exercised"
    served.admin("PUT", "faults/", json={"reset": True})
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    assert not asyncio.run(plan_only(served, manifests)).has_changes
