"""`dexter apply` end to end against the emulator on loopback: approval, plan files (stale
ones refused), safety, a change Sentry rejects, Sentry's asynchronous rule tasks, and a
quiet `dexter plan --detailed-exitcode` after every successful apply."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dexter_sync.cli.main import cli
from tests.test_apply_support import list_all, live_names, write_manifests


def dexter(emu, *args: str):
    return CliRunner().invoke(cli, [*args, "--sentry-url", emu.url], catch_exceptions=False)


def count_writes(counters: dict) -> int:
    """POST/PUT/DELETE requests in the emulator's admin counters, whatever their status."""
    return sum(sum(statuses.values()) for route, statuses in counters["routes"].items()
               if route.split(" ", 1)[0] in ("POST", "PUT", "DELETE"))


def test_apply_then_plan_shows_no_changes(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=3, metric=2, issue=2)
    result = dexter(emu, "apply", str(manifests), "--auto-approve")
    assert result.exit_code == 0, result.output + result.stderr
    assert "7 applied, 0 failed, 0 not attempted" in result.stdout
    assert sorted(live_names(emu)) == sorted(
        ["q-0000", "q-0001", "q-0002", "m-0000", "m-0001", "i-0000", "i-0001"])
    again = dexter(emu, "plan", str(manifests), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout


def test_no_terminal_and_no_auto_approve_is_refused_before_any_write(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=2)
    emu.reset_counters()
    result = dexter(emu, "apply", str(manifests))
    assert count_writes(emu.counters()) == 0
    assert result.exit_code == 1
    assert "no terminal to confirm on" in result.stderr and "--auto-approve" in result.stderr
    assert sum(live_names(emu).values()) == 0
    applied = dexter(emu, "apply", str(manifests), "--auto-approve")
    assert applied.exit_code == 0 and count_writes(emu.counters()) == 2


def test_rejected_change_fails_alone_with_sentrys_text_and_file_line(emu, tmp_path):
    bogus = ("  - name: bogus-node\n    project: backend\n    conditions:\n"
             "      - {id: sentry.rules.conditions.no_such.NoSuchCondition}\n"
             "    actions:\n      - email: {team: backend}\n")
    manifests = write_manifests(tmp_path / "m", queries=3, issue=1, extra=bogus)
    result = dexter(emu, "apply", str(manifests), "--auto-approve", "--format", "json")
    assert result.exit_code == 3, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"] == {"applied": 4, "failed": 1, "not_attempted": 0}
    [failed] = [c for c in report["changes"] if c["status"] == "failed"]
    assert failed["key"].endswith("bogus-node")
    assert "NoSuchCondition" in failed["detail"] and "400" in failed["detail"]
    lines = (manifests / "resources.yaml").read_text().splitlines()
    line = int(failed["source"].rsplit(":", 1)[1])
    assert failed["source"].rsplit(":", 1)[0].endswith("resources.yaml")
    assert "bogus-node" in lines[line - 1]
    names = live_names(emu)
    assert "bogus-node" not in names and {"q-0000", "q-0001", "q-0002", "i-0000"} <= set(names)


def test_saved_plan_applies_exactly_and_a_stale_one_is_refused(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=2, metric=1)
    assert dexter(emu, "apply", str(manifests), "--auto-approve").exit_code == 0
    changed = write_manifests(tmp_path / "m", queries=3, metric=1)  # one more query
    plan_file = tmp_path / "plan.json"
    assert dexter(emu, "plan", str(changed), "--out", str(plan_file)).exit_code == 0

    [rule] = list_all(emu, f"organizations/{emu.organization}/alert-rules/")
    emu.oob_change("metric_rule", "update", id=rule["id"], fields={"timeWindow": 60})
    emu.reset_counters()
    refused = dexter(emu, "apply", str(plan_file))
    assert refused.exit_code == 1
    assert "stale-plan" in refused.stderr
    assert "metric_alert/m-0000: changed since the plan" in refused.stderr
    assert count_writes(emu.counters()) == 0  # refused before any write
    assert "q-0002" not in live_names(emu)

    fresh_file = tmp_path / "fresh.json"
    assert dexter(emu, "plan", str(changed), "--out", str(fresh_file)).exit_code == 0
    applied = dexter(emu, "apply", str(fresh_file), "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    report = json.loads(applied.stdout)
    assert sorted((c["action"], c["key"]) for c in report["changes"]) == [
        ("create", "q-0002"), ("update", "m-0000")]
    assert dexter(emu, "plan", str(changed), "--detailed-exitcode").exit_code == 0


def test_safety_findings_stop_the_run_unless_forced(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=12)
    assert dexter(emu, "apply", str(manifests), "--auto-approve").exit_code == 0
    smaller = write_manifests(tmp_path / "m", queries=4)
    settings = (smaller / "dexter.yaml").read_text().replace(
        "max_delete_percent: 100", "max_delete_percent: 30")
    (smaller / "dexter.yaml").write_text(settings + "prune: {discover_queries: true}\n")
    refused = dexter(emu, "apply", str(smaller), "--auto-approve")
    assert refused.exit_code == 1 and "unsafe-plan" in refused.stderr
    assert sum(live_names(emu).values()) == 12
    forced = dexter(emu, "apply", str(smaller), "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert sorted(live_names(emu)) == [f"q-{i:04d}" for i in range(4)]
    assert dexter(emu, "plan", str(smaller), "--detailed-exitcode").exit_code == 0


def test_slack_rule_answered_202_is_followed_until_the_task_succeeds(emu, tmp_path):
    emu.ensure_names(integrations=[("slack", "Acme Slack")],
                     slack_channels=[("Acme Slack", "#alerts")])
    slack = ("  - name: slack-rule\n    project: backend\n    conditions: [first_seen_event]\n"
             "    actions:\n      - slack: {channel: '#alerts', workspace: Acme Slack}\n")
    manifests = write_manifests(Path(tmp_path / "m"), issue=1, extra=slack)
    # a Sentry without the channel listing: the id is unknown at plan time
    emu.set_quirks(slack_async=True, channel_listing=False, slack_task_delay=0.3, slack_task_polls=3)
    result = dexter(emu, "apply", str(manifests), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    [slack_change] = [c for c in report["changes"] if c["key"].endswith("slack-rule")]
    assert slack_change["status"] == "applied" and slack_change["live_id"]
    rules = list_all(emu, f"projects/{emu.organization}/backend/rules/")
    assert slack_change["live_id"] in {r["id"] for r in rules}
    polled = json.dumps(emu.counters())
    assert "rule-task" in polled


def test_slack_metric_rule_answered_202_reports_the_rule_its_task_created(emu, tmp_path):
    """The metric task endpoint puts the rule under `alertRule` (the issue-rule one under
    `rule`): the report names the id of the rule the task created."""
    emu.ensure_names(integrations=[("slack", "Acme Slack")],
                     slack_channels=[("Acme Slack", "#alerts")])
    root = tmp_path / "m"
    root.mkdir()
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n")
    (root / "rules.yaml").write_text(
        "metric_alerts:\n  - name: paged\n    project: backend\n    aggregate: count()\n"
        "    time_window: 5m\n    triggers:\n      critical:\n        threshold: 100\n"
        "        actions: [{slack: {channel: '#alerts', workspace: Acme Slack}}]\n")
    emu.set_quirks(slack_async=True, channel_listing=False, slack_task_polls=2)
    result = dexter(emu, "apply", str(root), "--auto-approve", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [change] = json.loads(result.stdout)["changes"]
    [rule] = list_all(emu, f"organizations/{emu.organization}/alert-rules/")
    assert (change["status"], change["live_id"]) == ("applied", rule["id"])
    assert "alert-rule-task" in json.dumps(emu.counters())


def test_issue_alert_exact_duplicate_is_a_conflict_with_sentrys_text(emu, tmp_path):
    twin = ("  - name: i-twin\n    project: backend\n    action_match: any\n"
            "    conditions:\n      - event_frequency: {value: 1000, interval: 1h}\n"
            "    actions:\n      - email: {team: backend}\n")
    manifests = write_manifests(tmp_path / "m", issue=1, extra=twin)  # i-0000 has the same rule
    result = dexter(emu, "apply", str(manifests), "--auto-approve", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    [failed] = [c for c in report["changes"] if c["status"] == "failed"]
    assert "exact duplicate" in failed["detail"]
    names = live_names(emu)
    assert sum(names.values()) == 1 and failed["key"].split("/")[-1] not in names


def test_target_limits_the_apply(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=3, metric=1)
    result = dexter(emu, "apply", str(manifests), "--auto-approve", "--target",
                    "discover_query/q-0001")
    assert result.exit_code == 0, result.stderr
    assert sorted(live_names(emu)) == ["q-0001"]
