"""`dexter migrate alerts`: legacy manifests of a migrated org are converted and cut over
wave by wave, with exactly one enabled alert per rule after every wave; afterwards the
converted manifests plan quiet. The waves refuse to run out of order."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.manifest import load_manifests
from dexter_sync.migration.convert import convert
from dexter_sync.migration.cutover import run_cutover
from dexter_sync.render.jsonplan import render_json
from dexter_sync.sentry.connect import open_facade
from tests.test_apply_support import FAST, apply_sync, list_all, plan_only, prepared_emulator

LEGACY = """\
metric_alerts:
  - name: checkout errors
    project: backend
    aggregate: count()
    query: 'level:error'
    time_window: 5m
    triggers:
      critical: {threshold: 100, actions: [{email: {team: backend}}]}
      warning: {threshold: 50, actions: [{email: {team: frontend}}]}
issue_alerts:
  - name: new issues
    project: backend
    action_match: any
    conditions: [first_seen_event, regression_event]
    filters: [{level: {match: gte, level: error}}]
    actions: [{email: {team: backend}}]
"""
RULES = {"checkout errors", "new issues"}


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n"
                                      "safety: {max_delete_percent: 100, "
                                      "max_update_percent: 100}\n")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def enabled_alerts(emu) -> Counter[str]:
    """How many enabled workflows (alerts that fire) each rule has in Sentry."""
    return Counter(w["name"] for w in list_all(emu, "organizations/acme/workflows/")
                   if w["enabled"])


def enabled_metric_monitors(emu) -> Counter[str]:
    return Counter(d["name"] for d in list_all(emu, "organizations/acme/detectors/")
                   if d["type"] == "metric_issue" and d["enabled"])


async def cut_over(emu, root: Path, through: str, after_wave=None) -> list[str]:
    desired = load_manifests(root)
    async with open_facade(sentry_url=emu.url, organization="acme", desired=desired,
                           settings=FAST, notify=lambda _: None) as facade:
        converted = convert(desired, await facade.read_directory())
        assert converted.problems == []
        return await run_cutover(facade, "acme", converted, through=through,
                                 after_wave=after_wave)


def test_cut_over_keeps_exactly_one_enabled_alert_per_rule_after_every_wave(
        monkeypatch, tmp_path):
    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    with prepared_emulator(monkeypatch) as emu:
        _, report = apply_sync(emu, legacy)
        assert all(o.status.value == "applied" for o in report.outcomes)
        switched = emu.admin.put("alerting/", json={"migrated": True, "legacy_retired": True})
        assert switched.json()["rulesMigrated"] == 2
        assert enabled_alerts(emu) == Counter(RULES)  # the twins fire
        seen: list[str] = []

        def after(wave: str) -> None:
            seen.append(wave)
            assert enabled_alerts(emu) == Counter(RULES), wave
            assert enabled_metric_monitors(emu) == Counter({"checkout errors": 1}), wave

        lines = asyncio.run(cut_over(emu, legacy, "retire", after))
        assert seen == ["create", "switch", "retire"]
        assert lines == ["create: 3 new objects created disabled",
                         "switch: 2 rules now served by their new alerts",
                         "retire: 3 twins deleted"]
        workflows = list_all(emu, "organizations/acme/workflows/")
        assert sorted(w["name"] for w in workflows) == sorted(RULES)
        mapped = emu.client().get("organizations/acme/alert-rule-workflow/",
                                  params={"workflow_id": workflows[0]["id"]})
        assert mapped.status_code == 404  # what is left is dexter's, not a twin
        # the converted manifests, alone, now describe Sentry exactly
        CliRunner().invoke(cli, ["migrate", "alerts", str(legacy), "--sentry-url", emu.url,
                                  "--out", str(tmp_path / "new" / "alerts.yaml")],
                           catch_exceptions=False)
        new = write(tmp_path / "new", {})
        plan = asyncio.run(plan_only(emu, new))
        assert not plan.has_changes, render_json(plan)
        assert plan.unchanged == 3


def test_waves_refuse_to_run_out_of_order_and_without_twins(monkeypatch, tmp_path):
    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, legacy)
        # the org is not migrated: no twin, so enabling the new alerts would double-fire
        with pytest.raises(DexterError) as refused:
            asyncio.run(cut_over(emu, legacy, "switch"))
        assert refused.value.code == "migration-blocked"
        assert "no auto-migrated twin" in str(refused.value)
        assert enabled_alerts(emu) == Counter()  # created, all disabled


def test_cli_writes_the_converted_manifests_and_shows_each_rules_next_wave(
        monkeypatch, tmp_path):
    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, legacy)
        emu.admin.put("alerting/", json={"migrated": True})
        result = CliRunner().invoke(cli, ["migrate", "alerts", str(legacy),
                                           "--sentry-url", emu.url])
        assert result.exit_code == 0, result.output
        assert "wrote 2 alerts and 1 monitors" in result.output
        assert "checkout errors: next wave create (from metric_alert/checkout errors)" \
            in result.output
        text = (legacy / "migrated-alerts.yaml").read_text()
        assert text.startswith("# Written by `dexter migrate alerts`")
        assert "issue_priority_greater_or_equal: 75" in text  # critical-only actions
        (legacy / "mine.yaml").write_text("# my notes\n")
        refused = CliRunner().invoke(cli, ["migrate", "alerts", str(legacy), "--sentry-url",
                                            emu.url, "--out", str(legacy / "mine.yaml")])
        assert refused.exit_code == 1
        assert "[migration-target]" in refused.output
        assert (legacy / "mine.yaml").read_text() == "# my notes\n"


def test_auto_migrated_twins_export_and_plan_quiet(monkeypatch, tmp_path):
    """What Sentry's migration made (frequency 0, empty triggers, legacy-style actions,
    `alertRuleId` detectors) reads back as manifests that plan to zero changes."""
    from tests.test_kind_workflows import export_to

    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, legacy)
        emu.admin.put("alerting/", json={"migrated": True})
        export_to(emu, tmp_path / "exported")
        plan = asyncio.run(plan_only(emu, tmp_path / "exported"))
        assert not plan.has_changes, render_json(plan)
        assert plan.unchanged == 3


ISSUES_ONLY = LEGACY[LEGACY.index("issue_alerts:"):]


def workflows_named(emu, name: str) -> list[dict]:
    return [w for w in list_all(emu, "organizations/acme/workflows/") if w["name"] == name]


def is_twin(emu, workflow: dict) -> bool:
    """A workflow with a legacy mapping row is an auto-migrated twin."""
    mapped = emu.client().get("organizations/acme/alert-rule-workflow/",
                              params={"workflow_id": workflow["id"]})
    return mapped.status_code == 200


def test_waves_run_again_do_nothing_twice_and_leave_rules_outside_the_run_alone(
        monkeypatch, tmp_path):
    """A wave run again finds its objects made; manifests migrated one file at a time leave
    the other rules' twins (and their new, disabled objects) as they are; a twin whose
    delete answer was lost is already gone when the delete is retried."""
    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    issues = write(tmp_path / "issues", {"rules.yaml": ISSUES_ONLY})
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, legacy)
        emu.admin.put("alerting/", json={"migrated": True})
        assert asyncio.run(cut_over(emu, legacy, "create")) == [
            "create: 3 new objects created disabled"]
        assert asyncio.run(cut_over(emu, legacy, "create")) == [
            "create: 0 new objects created disabled"]
        seen: list[str] = []

        async def after(wave: str) -> None:
            seen.append(wave)
            if wave == "switch":  # every DELETE commits, then its answer is lost
                emu.set_faults(methods="DELETE", lost_response_rate=1.0, seed=1)

        lines = asyncio.run(cut_over(emu, issues, "retire", after))
        emu.clear_faults()
        assert seen == ["create", "switch", "retire"]
        assert lines == ["create: 0 new objects created disabled",
                         "switch: 1 rules now served by their new alerts",
                         "retire: 1 twins deleted"]
        [served] = workflows_named(emu, "new issues")
        assert served["enabled"] and not is_twin(emu, served)
        checkout = workflows_named(emu, "checkout errors")
        assert sorted((is_twin(emu, w), w["enabled"]) for w in checkout) == [
            (False, False), (True, True)]  # its twin still fires, its new alert waits
        assert enabled_metric_monitors(emu) == Counter({"checkout errors": 1})


def test_a_wave_refuses_when_sentry_changed_since_the_wave_before(monkeypatch, tmp_path):
    """Each wave reads Sentry again: a new alert deleted after `create` stops `switch`; a
    twin turned back on after `switch` stops `retire` (it would delete a firing rule)."""
    legacy = write(tmp_path / "legacy", {"rules.yaml": LEGACY})
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, legacy)
        emu.admin.put("alerting/", json={"migrated": True})

        def delete_new_alert(wave: str) -> None:
            [new] = [w for w in workflows_named(emu, "new issues") if not is_twin(emu, w)]
            emu.client().delete(f"organizations/acme/workflows/{new['id']}/").raise_for_status()

        with pytest.raises(DexterError) as refused:
            asyncio.run(cut_over(emu, legacy, "switch", delete_new_alert))
        assert refused.value.code == "migration-blocked"
        assert str(refused.value) == ("cannot switch: no new alert yet for new issues (run "
                                      "the create wave first)")
        assert enabled_alerts(emu) == Counter(RULES)  # the twins, untouched

        def twin_back_on(wave: str) -> None:
            if wave == "switch":
                [twin] = [w for w in workflows_named(emu, "new issues") if is_twin(emu, w)]
                emu.client().put("organizations/acme/workflows/", params={"id": [twin["id"]]},
                                 json={"enabled": True}).raise_for_status()

        with pytest.raises(DexterError) as refused:
            asyncio.run(cut_over(emu, legacy, "retire", twin_back_on))
        assert refused.value.code == "migration-blocked"
        assert str(refused.value) == ("cannot retire the twins of new issues: their new "
                                      "alerts are not serving yet (run the switch wave first)")
        names = Counter(w["name"] for w in list_all(emu, "organizations/acme/workflows/"))
        assert names == Counter({"new issues": 2, "checkout errors": 2})  # none deleted
