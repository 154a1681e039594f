"""The token never shows: `dexter plan`, `apply` and `export` run as processes with `--debug`
and `--verbose` against a served emulator, under injected faults (5xx, dropped connections)
and with a rejected token (401), print it nowhere, and the exported files hold it nowhere."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dexter_sync.emulator.testing import running_emulator
from tests.test_safety_cli import DEXTER, manifests, metric

CANARY = "sntrys_CANARY_token_for_issue_12_0123456789abcdef"


def run(url: str, token: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_URL", "SENTRY_ORG")}
    env["SENTRY_AUTH_TOKEN"] = token
    return subprocess.run([DEXTER, *args, "--sentry-url", url, "--debug", "--verbose"],
                          env=env, cwd=cwd, text=True, capture_output=True, timeout=120,
                          check=False)


def commands(path: Path, out: Path) -> list[list[str]]:
    return [["plan", str(path)], ["apply", str(path), "--auto-approve"],
            ["export", "--out", str(out), "--org", "acme"]]


@pytest.mark.slow
def test_the_token_appears_nowhere_under_faults_and_a_401(tmp_path):
    path = manifests(tmp_path / "m", "metric_alerts:\n" + "".join(
        metric(f"m{i}", 100 + i) for i in range(5)))
    with running_emulator(token=CANARY, projects=["backend"], teams=["backend"]) as emu:
        emu.set_faults(error_rate=0.3, drop_rate=0.1, seed=12)
        faulty = [run(emu.url, CANARY, *args, cwd=tmp_path)
                  for args in commands(path, tmp_path / "export-faults")]
        emu.clear_faults()
        healthy = run(emu.url, CANARY, *commands(path, tmp_path / "export")[2], cwd=tmp_path)
        # the server refuses this token: the 401 path prints what was sent, never the token
        rejected = [run(emu.url, CANARY + "-revoked", *args, cwd=tmp_path)
                    for args in commands(path, tmp_path / "export-401")]
    assert healthy.returncode == 0, healthy.stderr
    exported = [p for p in (tmp_path / "export").rglob("*") if p.is_file()]
    assert exported, "the export wrote no files"
    assert "m0" in "".join(p.read_text() for p in exported)
    for result in rejected:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Sentry answered 401" in result.stderr
        assert "[sentry-unauthorized]" in result.stderr
    outputs = [r.stdout + r.stderr for r in (*faulty, healthy, *rejected)]
    for text in outputs:
        assert CANARY not in text
        assert "CANARY_token" not in text  # not even a part of it
    for file in tmp_path.rglob("*"):
        if file.is_file():
            assert "CANARY_token" not in file.read_text(errors="replace"), file
