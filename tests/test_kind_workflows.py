"""The `alerts` and `monitors` kinds against the emulator: the issue's example validates,
applies, plans quiet and exports back to a quiet plan; every condition, action and
detector type round-trips; an update keeps nested ids stable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dexter_sync.cli.export import read_for_export
from dexter_sync.core.diagnostics import ValidationError
from dexter_sync.manifest import load_manifests
from dexter_sync.manifest.exporting import build_export, write_tree
from dexter_sync.render.jsonplan import render_json
from dexter_sync.sentry.errors import SentryError
from tests.test_apply_support import apply_sync, list_all, plan_only, prepared_emulator

EXAMPLE = """\
monitors:
  - {name: checkout errors, type: metric, project: backend, dataset: events, aggregate: count(),
     query: 'level:error', time_window: 5m, threshold_type: above, triggers: {critical: {threshold: 100}}}
  - {name: homepage up, type: uptime, project: frontend, url: 'https://example.com/', interval: 1m, timeout: 5s}
alerts:
  - {name: page on checkout errors, monitors: [checkout errors], frequency: 30m,
     actions: [{email: {target_type: issue_owners}}]}
"""

KINDS = ["metric_monitor", "uptime_monitor", "cron_monitor", "alert"]


def write(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n"
                                      "safety: {max_delete_percent: 100, "
                                      "max_update_percent: 100}\n")
    (root / "resources.yaml").write_text(body)
    return root


def export_to(emu, out: Path) -> None:
    from dexter_sync.sentry.connect import open_facade
    from tests.test_apply_support import FAST

    async def main() -> None:
        async with open_facade(sentry_url=emu.url, organization=emu.organization,
                               desired=None, settings=FAST, notify=lambda _: None) as facade:
            live = await read_for_export(facade, emu.organization, KINDS)
        write_tree(build_export(live, organization=emu.organization).files, out)

    asyncio.run(main())


def test_issue_example_validates_applies_plans_quiet_and_exports_quiet(monkeypatch, tmp_path):
    root = write(tmp_path / "m", EXAMPLE)
    desired = load_manifests(root)
    assert sorted(r.kind for r in desired.resources) == ["alert", "metric_monitor",
                                                         "uptime_monitor"]
    with prepared_emulator(monkeypatch) as emu:
        plan, report = apply_sync(emu, root)
        assert [c.action.value for c in plan.changes] == ["create"] * 3
        assert all(o.status.value == "applied" for o in report.outcomes), report.outcomes
        detectors = {d["name"]: d for d in list_all(emu, "organizations/acme/detectors/")}
        workflow = list_all(emu, "organizations/acme/workflows/")[0]
        assert workflow["detectorIds"] == [detectors["checkout errors"]["id"]]
        assert workflow["config"] == {"frequency": 30}
        snuba = detectors["checkout errors"]["dataSources"][0]["queryObj"]["snubaQuery"]
        assert snuba["timeWindow"] == 300
        uptime = detectors["homepage up"]["dataSources"][0]["queryObj"]
        assert (uptime["intervalSeconds"], uptime["timeoutMs"]) == (60, 5000)
        again = asyncio.run(plan_only(emu, root))
        assert not again.has_changes, render_json(again)
        export_to(emu, tmp_path / "exported")
        exported = asyncio.run(plan_only(emu, tmp_path / "exported"))
        assert not exported.has_changes, render_json(exported)
        assert exported.unchanged == 3


LEGACY = """\
metric_alerts:
  - {name: checkout errors, project: backend, aggregate: count(), time_window: 5m,
     triggers: {critical: {threshold: 100, actions: [{email: {team: backend}}]}}}
"""


def test_a_rule_in_both_models_is_refused_with_both_places(monkeypatch, tmp_path):
    root = write(tmp_path / "m", LEGACY + EXAMPLE)
    with prepared_emulator(monkeypatch) as emu:
        try:
            asyncio.run(plan_only(emu, root))
        except ValidationError as error:
            problems = error.diagnostics
        else:
            raise AssertionError("a rule managed through both models was planned")
    assert [(p.code, p.span.line) for p in problems] == [("two-alerting-models", 2)]
    assert "metric_alert 'checkout errors' is also declared as metric_monitor " \
        "'checkout errors' (" in problems[0].message
    assert "resources.yaml:5" in problems[0].message


def test_retired_legacy_endpoints_are_reported_as_retired_not_missing(monkeypatch, tmp_path):
    root = write(tmp_path / "m", LEGACY)
    with prepared_emulator(monkeypatch) as emu:
        assert emu.admin.put("alerting/", json={"legacy_retired": True}).status_code == 200
        try:
            asyncio.run(plan_only(emu, root))
        except SentryError as error:
            caught = error
        else:
            raise AssertionError("a plan against retired endpoints succeeded")
    assert caught.code == "sentry-endpoint-retired"
    assert "410" in str(caught) and "dexter migrate alerts" in str(caught)
