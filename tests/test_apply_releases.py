"""Releases through apply: created with refs, deployed per environment and finalized; a
release that the real `sentry-cli` made first is matched by version, never duplicated."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from dexter_sync.apply.executor import execute_plan
from dexter_sync.cli.main import cli
from dexter_sync.cli.plan import load_desired, plan_live
from dexter_sync.sentry.connect import open_facade
from tests.test_apply_support import FAST, list_all

SENTRY_CLI = shutil.which("sentry-cli") or str(Path(sys.executable).with_name("sentry-cli"))


@pytest.fixture
def emu(emu):
    """The apply emulator (conftest) with a GitHub repository and a staging environment."""
    emu.ensure_names(integrations=[("github", "acme-github")],
                     repositories=[("acme/backend", "acme-github")], environments=["staging"])
    return emu


def manifests(root: Path, version: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n")
    (root / "releases.yaml").write_text(
        "releases:\n"
        f"  - version: '{version}'\n"
        "    projects: [backend]\n"
        "    ref: v1.0.0\n"
        "    refs:\n"
        "      - {repository: acme/backend, commit: 6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb}\n"
        "    finalized: true\n"
        "    deploys:\n"
        "      - {environment: staging, name: stage-1}\n"
        "      - {environment: production, name: prod-1}\n")
    return root


def dexter(emu, *args: str):
    return CliRunner().invoke(cli, [*args, "--sentry-url", emu.url], catch_exceptions=False)


def releases_named(emu, version: str) -> list[dict]:
    return [r for r in list_all(emu, f"organizations/{emu.organization}/releases/")
            if r["version"] == version]


def deploys_of(emu, version: str) -> list[dict]:
    return list_all(emu, f"organizations/{emu.organization}/releases/"
                         f"{quote(version, safe='')}/deploys/")


def test_release_is_created_deployed_per_environment_and_finalized(emu, tmp_path):
    root = manifests(tmp_path / "m", "backend@1.0.0")
    result = dexter(emu, "apply", str(root), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    actions = [(c["action"], c["kind"]) for c in json.loads(result.stdout)["changes"]]
    # the release before its deploys (dependency-ordered waves)
    assert actions == [("create", "release"), ("create", "deploy"), ("create", "deploy")]
    [release] = releases_named(emu, "backend@1.0.0")
    assert release["dateReleased"] and release["ref"] == "v1.0.0"
    assert sorted(d["environment"] for d in deploys_of(emu, "backend@1.0.0")) == \
        ["production", "staging"]
    assert dexter(emu, "plan", str(root), "--detailed-exitcode").exit_code == 0


def test_release_made_by_sentry_cli_is_matched_not_duplicated(emu, tmp_path):
    env = {**os.environ, "SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
           "SENTRY_ORG": emu.organization, "SENTRY_PROJECT": "backend"}
    made = subprocess.run([SENTRY_CLI, "releases", "new", "backend@2.0.0"], env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert made.returncode == 0, made.stderr
    [before] = releases_named(emu, "backend@2.0.0")
    assert before["dateReleased"] is None

    root = manifests(tmp_path / "m", "backend@2.0.0")
    result = dexter(emu, "apply", str(root), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert ("update", "release") in [(c["action"], c["kind"]) for c in changes]
    [after] = releases_named(emu, "backend@2.0.0")
    assert after["id"] == before["id"] and after["dateReleased"]
    assert len(deploys_of(emu, "backend@2.0.0")) == 2
    # sentry-cli sees dexter's finalize too
    listed = subprocess.run([SENTRY_CLI, "releases", "list"], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert listed.returncode == 0 and "(unreleased)" not in listed.stdout
    assert dexter(emu, "plan", str(root), "--detailed-exitcode").exit_code == 0


def test_deploys_of_a_release_that_failed_are_not_attempted(emu, tmp_path):
    root = manifests(tmp_path / "m", "backend@3.0.0")

    async def plan_then_fail():
        desired = load_desired(str(root), emu.organization)
        async with open_facade(sentry_url=emu.url, organization=emu.organization,
                               desired=desired, settings=FAST, notify=lambda _: None) as facade:
            plan = await plan_live(facade, desired)
            emu.set_faults(error_rate=1.0, route="/releases/", seed=1)
            return await execute_plan(plan, facade)

    report = asyncio.run(plan_then_fail())
    emu.clear_faults()
    statuses = sorted((o.change.kind, o.status.value) for o in report.outcomes)
    assert statuses == [("deploy", "not_attempted"), ("deploy", "not_attempted"),
                        ("release", "failed")]
    assert all(o.detail == "release/backend@3.0.0 was not applied"
               for o in report.outcomes if o.change.kind == "deploy")
    assert releases_named(emu, "backend@3.0.0") == []


def test_saved_plan_with_releases_and_deploys_is_current_and_applies(emu, tmp_path):
    root = manifests(tmp_path / "m", "backend@4.0.0")
    assert dexter(emu, "apply", str(root), "--auto-approve").exit_code == 0
    text = (root / "releases.yaml").read_text()
    emu.ensure_names(environments=["canary"])
    (root / "releases.yaml").write_text(text + "      - {environment: canary, name: canary-1}\n")
    plan_file = tmp_path / "plan.json"
    assert dexter(emu, "plan", str(root), "--out", str(plan_file)).exit_code == 0
    result = dexter(emu, "apply", str(plan_file), "--format", "json")
    assert result.exit_code == 0, result.stderr
    changes = json.loads(result.stdout)["changes"]
    assert [(c["action"], c["key"]) for c in changes] == [
        ("create", "backend@4.0.0/canary/canary-1")]
    assert dexter(emu, "plan", str(root), "--detailed-exitcode").exit_code == 0
