"""The README's first-run story, end to end, as a new user types it.

Runs the real `dexter` console script in a fresh directory (so the embedded emulator starts
from nothing): validate -> plan -> apply -> plan is quiet -> export -> the export validates
and plans to zero changes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEXTER = [sys.executable, "-m", "dexter_sync.cli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(DEXTER + args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "acme")
    return tmp_path


@pytest.mark.timeout(300)
def test_first_run_story(workdir: Path) -> None:
    validated = run(["validate", "acme"], workdir)
    assert validated.returncode == 0, validated.stderr

    first = run(["plan", "acme", "--format", "json"], workdir)
    assert first.returncode == 0, first.stderr
    assert "local Sentry emulator" in first.stderr
    plan = json.loads(first.stdout)
    assert plan["summary"]["create"] >= 25

    applied = run(["apply", "acme", "--auto-approve"], workdir)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    quiet = run(["plan", "acme", "--detailed-exitcode"], workdir)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr

    exported = run(["export", "--org", "acme", "--out", "exported"], workdir)
    assert exported.returncode == 0, exported.stderr
    assert run(["validate", "exported"], workdir).returncode == 0

    replan = run(["plan", "exported", "--format", "json", "--detailed-exitcode"], workdir)
    assert replan.returncode == 0, replan.stdout + replan.stderr
    summary = json.loads(replan.stdout)["summary"]
    assert (summary["create"], summary["update"], summary["delete"]) == (0, 0, 0)
