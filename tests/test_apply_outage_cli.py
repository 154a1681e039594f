"""A full write outage through the real CLI: `dexter plan --out` while Sentry is healthy,
then `dexter apply plan.json` as a process while every write fails and reads succeed. The
breaker opens, the run exits 3 naming what was not attempted, and a later run (outage over)
completes the rest with zero duplicates. Counts come from the emulator's API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dexter_sync.sentry.gateway import GatewaySettings
from tests.test_apply_support import duplicates, live_names, write_manifests

DEXTER = str(Path(sys.executable).with_name("dexter"))


def dexter(emu, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token}
    env.pop("SENTRY_URL", None)
    return subprocess.run([DEXTER, *args, "--sentry-url", emu.url], env=env, text=True,
                          capture_output=True, timeout=60, check=False)


def test_write_outage_opens_the_breaker_and_a_later_run_completes(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=30, metric=10)
    plan_file = tmp_path / "plan.json"
    planned = dexter(emu, "plan", str(manifests), "--out", str(plan_file))
    assert planned.returncode == 0, planned.stderr

    emu.set_faults(error_rate=1.0, error_statuses=[503], methods="POST,PUT,DELETE", seed=3)
    down = dexter(emu, "apply", str(plan_file), "--auto-approve", "--format", "json")
    assert down.returncode == 3, down.stderr
    report = json.loads(down.stdout)
    assert "circuit breaker open" in report["stopped"]
    summary = report["summary"]
    assert summary["applied"] == 0 and summary["failed"] + summary["not_attempted"] == 40
    skipped = [c for c in report["changes"] if c["status"] == "not_attempted"]
    # Only the changes started before the breaker opened were tried; the rest never sent a
    # thing. How many started depends on timing, so it is proven from state: every write the
    # emulator received belongs to a change reported as tried, none to a skipped one, and
    # the run stopped before the end.
    assert summary["not_attempted"] == len(skipped) >= 1, summary
    assert all(c["attempts"] == 0 for c in skipped)
    writes = sum(n for route, by_status in emu.counters()["routes"].items()
                 if route.split()[0] in ("POST", "PUT", "DELETE") for n in by_status.values())
    # a write handed to the gateway is sent at most its retry policy's attempts times (and
    # not at all once the breaker refuses it)
    settings = GatewaySettings()
    tried = sum(c["attempts"] for c in report["changes"])
    assert settings.breaker_threshold <= writes <= tried * settings.retry.attempts
    assert all("circuit breaker open" in c["detail"] for c in skipped)
    assert {c["key"] for c in skipped} <= {f"q-{i:04d}" for i in range(30)} | {
        f"m-{i:04d}" for i in range(10)}
    emu.clear_faults()
    assert sum(live_names(emu).values()) == 0  # every write failed: nothing was created

    later = dexter(emu, "apply", str(manifests), "--auto-approve", "--format", "json")
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["summary"] == {
        "applied": 40, "failed": 0, "not_attempted": 0}
    names = live_names(emu)
    assert duplicates(names) == {} and len(names) == 40
    quiet = dexter(emu, "plan", str(manifests), "--detailed-exitcode")
    assert quiet.returncode == 0, quiet.stdout
