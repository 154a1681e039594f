"""Safety through the real CLI: each alert gate (an issue alert matching every issue, an
alert with no action, deleting an alert that pages) and the update threshold are refused by
`dexter apply` without `--force` (nothing written, counted by the emulator) and applied with
it; a saved plan that breaches them is refused the same way."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_apply_support import live_names

DEXTER = str(Path(sys.executable).with_name("dexter"))
SAFETY = "safety: {max_update_percent: 50, max_delete_percent: 100, min_existing: 1}\n"


def dexter(emu, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token}
    env.pop("SENTRY_URL", None)
    return subprocess.run([DEXTER, *args, "--sentry-url", emu.url], env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def manifests(root: Path, resources: str, *, prune: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n"
                                      + SAFETY + prune)
    (root / "resources.yaml").write_text(resources)
    return root


def writes(emu) -> int:
    return sum(n for route, by_status in emu.counters()["routes"].items()
               if route.split()[0] in ("POST", "PUT", "DELETE") for n in by_status.values())


def metric(name: str, threshold: int, actions: str = "[{email: {team: backend}}]") -> str:
    return (f"  - name: {name}\n    project: backend\n    aggregate: count()\n"
            f"    time_window: 5m\n    triggers:\n      critical:\n"
            f"        threshold: {threshold}\n        actions: {actions}\n")


def refused_then_forced(emu, path: Path, code: str) -> tuple[str, str]:
    """`dexter apply` refuses (exit 1, the gate's code, zero writes); with --force it applies
    (exit 0). Returns both outputs' stderr/stdout for the caller's checks."""
    emu.reset_counters()
    refused = dexter(emu, "apply", str(path), "--auto-approve")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "[unsafe-plan]" in refused.stderr and f"[{code}]" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert writes(emu) == 0
    forced = dexter(emu, "apply", str(path), "--auto-approve", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert writes(emu) >= 1
    return refused.stderr, forced.stdout


EVERYTHING = ("issue_alerts:\n  - name: everything\n    project: backend\n"
              "    conditions: []\n    filters: []\n    filter_match: all\n"
              "    actions: [{email: {team: backend}}]\n")
# the manifest checks refuse an alert with no action at all; a trigger without one passes
# them and is what the gate catches
SILENT = "metric_alerts:\n" + metric("silent", 100) + \
    "      warning: {threshold: 50, actions: []}\n"


def quiet(emu, path: Path) -> None:
    plan = dexter(emu, "plan", str(path), "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_issue_alert_matching_every_issue_needs_force(emu, tmp_path):
    path = manifests(tmp_path / "m", EVERYTHING)
    refused_then_forced(emu, path, "match-everything")
    assert live_names(emu) == {"everything": 1}
    quiet(emu, path)


def test_alert_with_no_action_is_refused_even_with_force(emu, tmp_path):
    # The manifest checks refuse it before any plan (Sentry's own rule for issue alerts; a
    # metric trigger needs an action too), so the gate is a second line: --force, which
    # only lifts safety findings, cannot send it.
    path = manifests(tmp_path / "m", SILENT)
    for force in ([], ["--force"]):
        emu.reset_counters()
        refused = dexter(emu, "apply", str(path), "--auto-approve", *force)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "[invalid-value]" in refused.stderr and "resources.yaml:" in refused.stderr
        assert "each trigger needs at least one action" in refused.stderr
        assert writes(emu) == 0
    assert live_names(emu) == {}


def test_deleting_a_paging_alert_needs_force(emu, tmp_path):
    emu.ensure_names(integrations=[("pagerduty", "acme-pagerduty")])
    paging = metric("paging", 100, '[{pagerduty: {service: "45", account: acme-pagerduty}}]')
    path = manifests(tmp_path / "m", "metric_alerts:\n" + paging + metric("kept", 50),
                     prune="prune: {metric_alerts: true}\n")
    created = dexter(emu, "apply", str(path), "--auto-approve")
    assert created.returncode == 0, created.stdout + created.stderr
    assert live_names(emu) == {"paging": 1, "kept": 1}

    manifests(path, "metric_alerts:\n" + metric("kept", 50),
              prune="prune: {metric_alerts: true}\n")
    refused, _ = refused_then_forced(emu, path, "pager-delete")
    assert "pagerduty" in refused
    assert live_names(emu) == {"kept": 1}
    quiet(emu, path)


def test_updating_over_the_threshold_needs_force(emu, tmp_path):
    path = manifests(tmp_path / "m", "metric_alerts:\n" + "".join(
        metric(f"m{i}", 100 + i) for i in range(4)))
    assert dexter(emu, "apply", str(path), "--auto-approve").returncode == 0
    # 3 of 4 updated: 75% is over the 50% allowed
    manifests(path, "metric_alerts:\n" + "".join(
        metric(f"m{i}", 200 + i if i < 3 else 100 + i) for i in range(4)))
    refused, _ = refused_then_forced(emu, path, "too-many-updates")
    assert "75%" in refused
    quiet(emu, path)


@pytest.mark.slow
def test_an_unsafe_saved_plan_is_refused_the_same_way(emu, tmp_path):
    path = manifests(tmp_path / "m", EVERYTHING)
    plan_file = tmp_path / "plan.json"
    planned = dexter(emu, "plan", str(path), "--out", str(plan_file))
    assert planned.returncode == 0, planned.stderr
    assert "match-everything" in planned.stdout + planned.stderr
    refused_then_forced(emu, plan_file, "match-everything")
    assert live_names(emu) == {"everything": 1}
    quiet(emu, path)
