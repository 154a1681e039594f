"""`dexter plan` and `dexter export` through the CLI against an emulator on loopback: exit
codes, formats, saved plans, reference errors with file:line, export then plan = no changes.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.render.planfile import read_plan

RULES = """
metric_alerts:
  - name: Errors
    project: backend
    aggregate: count()
    time_window: 5m
    triggers:
      critical:
        threshold: 100
        actions:
          - email: {team: backend-team}
issue_alerts:
  - name: New issues
    project: backend
    conditions: [first_seen_event]
    actions:
      - email: {target: issue_owners, fallthrough: active_members}
"""


@pytest.fixture
def target(monkeypatch):
    with running_emulator(projects=["backend", "frontend"], teams=["backend-team"]) as emu:
        monkeypatch.setenv("SENTRY_URL", emu.url)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", emu.token)
        monkeypatch.delenv("SENTRY_ORG", raising=False)
        monkeypatch.setenv("NO_COLOR", "1")
        yield emu


def manifests(tmp_path, body: str = RULES):
    root = tmp_path / "sentry"
    root.mkdir(exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
    (root / "r.yaml").write_text(textwrap.dedent(body))
    return root


def dexter(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_plan_formats_and_detailed_exitcode(target, tmp_path):
    root = manifests(tmp_path)
    text = dexter("plan", str(root))
    assert text.exit_code == 0, text.output
    assert "+ create metric_alert/Errors" in text.output
    assert "+ create issue_alert/backend/New issues" in text.output
    assert "Plan: 2 to create, 0 to update, 0 to delete, 0 unchanged." in text.output
    assert dexter("plan", str(root), "--detailed-exitcode").exit_code == 2
    document = json.loads(dexter("plan", str(root), "--format", "json").stdout)
    assert document["summary"]["create"] == 2 and document["organization"] == "acme"
    markdown = dexter("plan", str(root), "--format", "markdown").stdout
    assert markdown.startswith("### dexter plan for `acme`") and "<details>" in markdown
    targeted = json.loads(dexter("plan", str(root), "--format", "json",
                                 "--target", "issue_alert/backend/New issues").stdout)
    assert [c["key"] for c in targeted["changes"]] == ["backend/New issues"]


def test_saved_plan_and_org_override(target, tmp_path):
    root = manifests(tmp_path)
    out = tmp_path / "plan.json"
    result = dexter("plan", str(root), "--out", str(out))
    assert result.exit_code == 0 and f"Saved the plan to {out}" in result.stderr
    plan = read_plan(out, organization="acme")
    assert len(plan.changes) == 2 and plan.changes[0].payload
    assert target.token not in out.read_text()
    other = dexter("plan", str(root), "--org", "globex")
    assert other.exit_code == 1 and "error:" in other.stderr
    assert "Traceback" not in other.output


def test_missing_references_fail_before_any_write_with_positions(target, tmp_path):
    body = RULES.replace("project: backend\n    aggregate", "project: backnd\n    aggregate") \
        .replace("{team: backend-team}", "{team: backend-tem}")
    root = manifests(tmp_path, body)
    result = dexter("plan", str(root))
    assert result.exit_code == 1
    assert "project 'backnd' does not exist in acme" in result.stderr
    assert "did you mean 'backend'?" in result.stderr
    assert "team 'backend-tem' does not exist" in result.stderr
    assert "r.yaml:4:" in result.stderr  # the line of `project: backnd`
    assert "Traceback" not in result.output


def test_unknown_target_is_a_clear_error(target, tmp_path):
    result = dexter("plan", str(manifests(tmp_path)), "--target", "metric_alrt/Errors")
    assert result.exit_code == 1 and "did you mean 'metric_alert'" in result.stderr


def test_export_then_plan_shows_no_changes(target, tmp_path):
    rules = target.seed_rules(metric_rules=5, issue_rules=6, projects=2, saved_queries=3)
    assert rules
    out = tmp_path / "exported"
    result = dexter("export", "--org", "acme", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Exported" in result.stdout
    assert (out / "dexter.yaml").read_text().startswith("# yaml-language-server: $schema=")
    validate = dexter("validate", str(out))
    assert validate.exit_code == 0, validate.output
    plan = dexter("plan", str(out), "--detailed-exitcode", "--format", "json")
    assert plan.exit_code == 0, plan.stdout
    summary = json.loads(plan.stdout)["summary"]
    assert summary["unchanged"] >= 14 and summary["create"] == summary["update"] == 0
    quiet = dexter("plan", str(out))
    assert quiet.stdout == (f"No changes. acme matches the manifests "
                            f"({summary['unchanged']} unchanged).\n")
    assert "cosmetic differences suppressed: " in dexter("-v", "plan", str(out)).stdout
    explained = dexter("plan", str(out), "--explain").stdout
    assert "server-field (sent null, Sentry has" in explained
    assert len(explained.splitlines()) > len(quiet.stdout.splitlines()) + 10
    # what the filter must select (an issue rule in backend) and what it must leave out (one
    # in frontend, the seeded ones in other projects, every metric alert and query)
    client = target.client()
    for project in ("backend", "frontend"):
        created = client.post(f"projects/acme/{project}/rules/", json={
            "name": f"{project} only rule", "actionMatch": "any", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners"}]})
        assert created.status_code == 200, created.text
    only = dexter("export", "--org", "acme", "--out", str(tmp_path / "some"),
                  "--kinds", "issue_alerts", "--projects", "backend")
    assert only.exit_code == 0, only.output
    written = "".join(p.read_text() for p in (tmp_path / "some").rglob("*.yaml"))
    assert "backend only rule" in written
    assert "frontend only rule" not in written
    assert "seed issue rule" not in written and "seed metric rule" not in written
    assert "metric_alerts:" not in written and "discover_queries:" not in written
    assert not (tmp_path / "some" / "metric_alerts.yaml").exists()
    bad = dexter("export", "--org", "acme", "--kinds", "metric_alrts", "--out", str(tmp_path))
    assert bad.exit_code == 1 and "did you mean 'metric_alerts'" in bad.stderr
