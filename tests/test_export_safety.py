"""`dexter export` never deletes or writes what it did not write: a git checkout with notes
survives, a second export removes only its own stale files, and a server-provided project
slug such as `../../../outside/x` (or a symlinked subdirectory) cannot lead a write outside
`--out`.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace

import pytest
from click.testing import CliRunner

from dexter_sync.cli.export import read_for_export
from dexter_sync.cli.main import cli
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.manifest.exporting import build_export
from dexter_sync.manifest.exporttree import MARKER, safe_slug, write_tree
from tests.helpers_org import ORG, Org

HOSTILE = "../../../outside/x"


@pytest.fixture
def target(emulator, monkeypatch):
    monkeypatch.setenv("SENTRY_URL", emulator.url)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", emulator.token)
    monkeypatch.setenv("NO_COLOR", "1")
    emulator.seed_rules(metric_rules=2, issue_rules=2, projects=1)
    return emulator


def export(*args: str):
    return CliRunner().invoke(cli, ["export", "--org", "acme", *args],
                              catch_exceptions=False)


def checkout(root):
    """A git checkout holding manifests, notes and a directory of the user's."""
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "NOTES.md").write_text("mine\n")
    (root / "docs").mkdir()
    (root / "docs" / "runbook.md").write_text("runbook\n")
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\n")
    return root


def files_of(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_export_into_a_checkout_is_refused_and_with_force_removes_nothing(target, tmp_path):
    repo = checkout(tmp_path / "repo")
    before = files_of(repo)
    refused = export("--out", str(repo))
    assert refused.exit_code == 1
    assert "not written by dexter export" in refused.stderr and "--force" in refused.stderr
    assert files_of(repo) == before
    forced = export("--out", str(repo), "--force")
    assert forced.exit_code == 0, forced.output
    after = files_of(repo)
    # everything of the user's is still there, byte for byte (dexter.yaml is the export's)
    assert {k: v for k, v in after.items() if k in before and k != "dexter.yaml"} == {
        k: v for k, v in before.items() if k != "dexter.yaml"}
    assert "metric_alerts.yaml" in after
    marker = json.loads((repo / MARKER).read_text())
    assert "NOTES.md" not in marker["files"] and "metric_alerts.yaml" in marker["files"]
    # the next export (no --force needed now) removes only its own stale files
    (repo / "metric_alerts.yaml").unlink()
    only = export("--out", str(repo), "--kinds", "issue_alerts")
    assert only.exit_code == 0, only.output
    final = files_of(repo)
    assert ".git/HEAD" in final and "NOTES.md" in final and "docs/runbook.md" in final
    assert "metric_alerts.yaml" not in final
    assert any(name.startswith("issue_alerts/") for name in final)


def test_a_second_export_removes_only_files_the_first_wrote(target, tmp_path):
    out = tmp_path / "out"
    assert export("--out", str(out)).exit_code == 0
    (out / "my-notes.txt").write_text("keep me")
    (out / ".env").write_text("SECRET=1")
    assert (out / "issue_alerts").is_dir()
    again = export("--out", str(out), "--kinds", "metric_alerts")
    assert again.exit_code == 0, again.output
    assert (out / "my-notes.txt").read_text() == "keep me"
    assert (out / ".env").read_text() == "SECRET=1"
    assert not (out / "issue_alerts").exists()  # written by the first export, now stale
    assert (out / "metric_alerts.yaml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left beside it


def test_a_hostile_project_slug_is_written_inside_the_target(tmp_path):
    org = Org(tmp_path / "unused", "export-safety-token")
    try:
        asyncio.run(org.oob("issue_rule", "create", project="backend", fields={
            "name": "climber", "actionMatch": "any", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}]}))
        live = asyncio.run(read_for_export(org.facade, ORG, ["issue_alert"]))
    finally:
        asyncio.run(org.close())
    # a server (or proxy) answering a project slug made to climb out of --out
    live.objects["issue_alert"] = [replace(o, project=HOSTILE)
                                   for o in live.of_kind("issue_alert")]
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    write_tree(build_export(live, organization=ORG).files, work / "out")
    assert not (tmp_path / "outside").exists() and not (tmp_path / "a" / "outside").exists()
    written = files_of(work / "out")
    name = f"issue_alerts/{safe_slug(HOSTILE)}.yaml"
    assert name in written and "climber" in written[name]
    assert all(".." not in part for path in written for part in path.split("/"))


def test_safe_slugs_are_plain_and_distinct():
    assert safe_slug("backend") == "backend"
    assert safe_slug("a/b") != safe_slug("a-b")
    assert "/" not in safe_slug(HOSTILE) and not safe_slug(HOSTILE).startswith(".")
    assert safe_slug(".git").startswith("git-")


@pytest.mark.parametrize("name", ["../x.yaml", "/etc/x.yaml", ".git/config", "a/../../x"])
def test_write_tree_refuses_names_that_leave_the_target(tmp_path, name):
    with pytest.raises(DexterError) as refused:
        write_tree({name: "x"}, tmp_path / "out")
    assert refused.value.code == "export-path"
    assert not (tmp_path / "x.yaml").exists()


def test_a_symlinked_subdirectory_cannot_lead_a_write_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    write_tree({"dexter.yaml": "a\n"}, out)
    os.symlink(outside, out / "issue_alerts")
    with pytest.raises(DexterError) as refused:
        write_tree({"dexter.yaml": "a\n", "issue_alerts/backend.yaml": "b\n"}, out)
    assert refused.value.code == "export-path"
    assert list(outside.iterdir()) == []
