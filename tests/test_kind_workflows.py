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
        # durations are written back in their spelling; defaults (30m, 5s) are left out
        text = "\n".join(p.read_text() for p in sorted((tmp_path / "exported").rglob("*.yaml")))
        assert ("time_window: 5m" in text, "interval: 1m" in text) == (True, True), text
        assert ("frequency" in text, "timeout" in text) == (False, False), text


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


EVERYTHING = """\
monitors:
  - {type: metric, name: errors static, project: backend, aggregate: count(), query: 'level:error',
     time_window: 5m, environment: production, owner: 'team:backend', description: many errors,
     triggers: {critical: {threshold: 100}, warning: {threshold: 50}}, resolve_threshold: 40}
  - {type: metric, name: errors percent, project: backend, aggregate: count(), time_window: 1h,
     comparison_delta: 1d, threshold_type: below, triggers: {critical: {threshold: 30}}}
  - {type: metric, name: spans dynamic, project: frontend, dataset: events_analytics_platform,
     aggregate: p95(span.duration), time_window: 15m, detection_type: dynamic,
     threshold_type: above_and_below, sensitivity: high, event_types: [trace_item_span]}
  - {type: uptime, name: api up, project: backend, url: 'https://api.example.com/health',
     interval: 5m, timeout: 10s, method: POST, headers: {X-Token: abc, Accept: text/plain},
     body: '{}', trace_sampling: true, assertion: {root: {op: and, children: []}},
     environment: production, downtime_threshold: 5, recovery_threshold: 2, enabled: false}
  - {type: cron, name: nightly job, project: backend, schedule: '0 3 * * *', checkin_margin: 5m,
     max_runtime: 1h, timezone: Europe/Berlin, failure_issue_threshold: 2, recovery_threshold: 3}
  - {type: cron, name: hourly sync, project: frontend, schedule: 2h}
alerts:
  - name: every type
    enabled: false
    environment: production
    frequency: 1h
    owner: 'team:backend'
    monitors: [errors static, errors percent, spans dynamic, api up, nightly job, hourly sync]
    projects: [backend]
    issue_streams: [frontend]
    trigger_match: any
    triggers:
      - first_seen_event
      - regression_event
      - reappeared_event
      - issue_resolved_trigger
      - new_high_priority_issue
      - existing_high_priority_issue
      - every_event
      - event_seen_count
      - event_created_by_detector
      - issue_resolution_change
      - {seer_activity_trigger: [rca_completed, pr_created]}
    action_filters:
      - filter_match: any
        conditions:
          - {age_comparison: {time: hour, value: 3, comparison_type: older}}
          - {assigned_to: {target_type: NoOne, target_identifier: ''}}
          - {issue_category: {value: 1, include: true}}
          - {issue_type: {value: error, include: true}}
          - {issue_occurrences: {value: 10}}
          - issue_priority_deescalating
          - {issue_priority_greater_or_equal: 75}
          - {issue_priority_equals: 50}
          - {event_frequency_count: {value: 100, interval: 1h}}
          - {event_unique_user_frequency_count: {value: 10, interval: 1d, filters: []}}
          - {event_frequency_percent: {value: 50, interval: 1h, comparison_interval: 1d}}
        actions:
          - {email: {target_type: issue_owners, fallthrough: AllMembers}}
          - {email: {team: backend}}
          - {slack: {channel: '#alerts', tags: 'level,environment', notes: hi}}
          - {pagerduty: {service: P123, priority: critical}}
          - {opsgenie: {team: T1, priority: P1}}
          - {msteams: {channel: General}}
          - {discord: {channel_id: '123456', tags: level}}
      - conditions:
          - {event_unique_user_frequency_percent: {value: 5, interval: 1h, comparison_interval: 1w}}
          - {percent_sessions_count: {value: 5, interval: 1h}}
          - {percent_sessions_percent: {value: 5, interval: 1h, comparison_interval: 1w}}
          - {event_attribute: {attribute: http.url, match: co, value: /checkout}}
          - {tagged_event: {key: browser, match: eq, value: Chrome}}
          - latest_release
          - {latest_adopted_release: {environment: production, age_comparison: older,
                                      release_age_type: oldest}}
          - {level: {level: error, match: gte}}
          - {issue_open_duration: {value: 1, time: day}}
        actions:
          - {jira: {fields: {project: '10000', issuetype: '10001'}}}
          - {jira_server: {fields: {project: '2'}}}
          - {github: {fields: {repo: acme/backend, labels: [bug]}}}
          - {github_enterprise: {fields: {repo: acme/backend}}}
          - {vsts: {fields: {project: x, work_item_type: Bug}}}
          - {webhook: {service: webhooks}}
          - {sentry_app: {app: '42', settings: [{name: channel, value: ops}]}}
          - {plugin: {}}
          - {type: email, config: {target_type: user, target_identifier: '1'}, data: {}}
"""
INTEGRATIONS = [("slack", "acme-slack"), ("pagerduty", "acme-pd"), ("opsgenie", "acme-og"),
                ("msteams", "acme-teams"), ("discord", "acme-discord"), ("jira", "acme-jira"),
                ("jira_server", "acme-jira-server"), ("github", "acme-github"),
                ("github_enterprise", "acme-ghe"), ("vsts", "acme-devops")]


def test_every_condition_action_and_monitor_type_round_trips(monkeypatch, tmp_path):
    root = write(tmp_path / "m", EVERYTHING)
    with prepared_emulator(monkeypatch) as emu:
        emu.ensure_names(integrations=INTEGRATIONS, slack_channels=[("acme-slack", "#alerts")])
        _, report = apply_sync(emu, root)
        assert [o.status.value for o in report.outcomes] == ["applied"] * 7, report.outcomes
        workflow = list_all(emu, "organizations/acme/workflows/")[0]
        groups = workflow["actionFilters"]
        assert len(workflow["triggers"]["conditions"]) == 11
        assert sorted(len(g["conditions"]) for g in groups) == [9, 11]
        assert sorted(len(g["actions"]) for g in groups) == [7, 9]
        assert len(workflow["detectorIds"]) == 8  # six monitors and two system detectors
        again = asyncio.run(plan_only(emu, root))
        assert not again.has_changes, render_json(again)
        export_to(emu, tmp_path / "exported")
        exported = asyncio.run(plan_only(emu, tmp_path / "exported"))
        assert not exported.has_changes, render_json(exported)
        assert exported.unchanged == 7


def _ids(workflow: dict) -> dict:
    return {"triggers": workflow["triggers"]["id"],
            "conditions": sorted(c["id"] for c in workflow["triggers"]["conditions"]),
            "filters": sorted(g["id"] for g in workflow["actionFilters"]),
            "actions": {a["type"]: a["id"] for g in workflow["actionFilters"]
                        for a in g["actions"]}}


def test_an_update_keeps_nested_ids_stable(monkeypatch, tmp_path):
    alert = """\
alerts:
  - name: nested ids
    enabled: false
    projects: [backend]
    triggers: [first_seen_event, regression_event]
    filters: [{level: {level: error, match: gte}}]
    actions: [{email: {team: backend}}, {webhook: {service: hooks}}]
monitors:
  - {type: metric, name: thresholds, project: backend, aggregate: count(), time_window: 5m,
     triggers: {critical: {threshold: 100}, warning: {threshold: 50}}}
"""
    root = write(tmp_path / "m", alert)
    with prepared_emulator(monkeypatch) as emu:
        apply_sync(emu, root)
        before = _ids(list_all(emu, "organizations/acme/workflows/")[0])
        detector = next(d for d in list_all(emu, "organizations/acme/detectors/")
                        if d["name"] == "thresholds")
        # change one action, one threshold; everything else stays as it is
        write(root, alert.replace("hooks}", "hooks-v2}").replace("threshold: 50", "threshold: 60"))
        plan, _ = apply_sync(emu, root)
        assert sorted(c.key for c in plan.changes) == ["nested ids", "thresholds"]
        workflow = list_all(emu, "organizations/acme/workflows/")[0]
        after = _ids(workflow)
        assert workflow["enabled"] is False  # the full-object PUT sent enabled
        assert after["triggers"] == before["triggers"]
        assert after["conditions"] == before["conditions"]
        assert after["filters"] == before["filters"]
        assert after["actions"]["email"] == before["actions"]["email"]
        webhook = next(a for g in workflow["actionFilters"] for a in g["actions"]
                       if a["type"] == "webhook")
        assert webhook["config"]["targetIdentifier"] == "hooks-v2"
        changed = next(d for d in list_all(emu, "organizations/acme/detectors/")
                       if d["name"] == "thresholds")
        old = {c["conditionResult"]: c["id"] for c in detector["conditionGroup"]["conditions"]}
        new = {c["conditionResult"]: (c["id"], c["comparison"])
               for c in changed["conditionGroup"]["conditions"]}
        assert new == {75: (old[75], 100), 50: (old[50], 60), 0: (old[0], 100)}
        assert not asyncio.run(plan_only(emu, root)).has_changes


SENTRY_FORM = """\
monitors:
  - type: metric
    name: errors static
    project: backend
    data_sources: [{aggregate: count(), dataset: events, query: 'level:error', timeWindow: 300,
                    environment: production}]
    config: {detectionType: static}
    condition_group:
      logicType: any
      conditions:
        - {type: gt, comparison: 100, conditionResult: 75}
        - {type: gt, comparison: 50, conditionResult: 50}
        - {type: lte, comparison: 40, conditionResult: 0}
  - type: uptime
    name: api up
    project: backend
    data_sources: [{url: 'https://api.example.com/health', intervalSeconds: 300,
                    timeoutMs: 10000, method: POST, headers: [[X-Token, abc], [Accept, text/plain]],
                    body: '{}', traceSampling: true, assertion: {root: {op: and, children: []}}}]
    config: {mode: 1, environment: production, downtimeThreshold: 5, recoveryThreshold: 2}
  - type: cron
    name: nightly job
    project: backend
    data_sources: [{name: nightly job, config: {schedule_type: crontab, schedule: '0 3 * * *',
                    checkin_margin: 5, max_runtime: 60, timezone: Europe/Berlin,
                    failure_issue_threshold: 2, recovery_threshold: 3}}]
"""


def test_sentry_form_monitors_send_what_the_friendly_forms_send(tmp_path):
    from dexter_sync.core.directory import Directory
    from dexter_sync.kinds.registry import get_kind

    friendly = load_manifests(write(tmp_path / "f", EVERYTHING))
    sentry = load_manifests(write(tmp_path / "s", SENTRY_FORM))
    directory = Directory("acme", projects={"backend": "1"})
    wanted = {r.key: r for r in friendly.resources}
    assert len(sentry.resources) == 3
    for resource in sentry.resources:
        kind = get_kind(resource.kind)
        friendly_payload = kind.build_payload(wanted[resource.key].entry, directory=directory)
        sentry_payload = kind.build_payload(resource.entry, directory=directory)
        for key in ("dataSources", "config", "conditionGroup"):
            assert sentry_payload.get(key) == friendly_payload.get(key), (resource.key, key)


def test_a_field_given_in_both_forms_is_refused_with_its_place(tmp_path):
    from tests.helpers_kinds import manifest_errors

    error = manifest_errors(tmp_path, "m.yaml", """\
monitors:
  - type: uptime
    name: twice
    project: backend
    url: 'https://a.example.com/'
    data_sources: [{url: 'https://b.example.com/', intervalSeconds: 60, timeoutMs: 5000}]
""")
    assert "url given twice" in str(error)
    assert "m.yaml:2" in str(error)


def test_sentry_group_forms_of_an_alert_send_what_the_friendly_form_sends(tmp_path):
    from dexter_sync.core.directory import Directory
    from dexter_sync.kinds.registry import get_kind

    friendly = load_manifests(write(tmp_path / "f", """\
alerts:
  - {name: a, triggers: [first_seen_event], trigger_match: all, filter_match: any,
     filters: [latest_release], actions: [{plugin: {}}]}
"""))
    sentry = load_manifests(write(tmp_path / "s", """\
alerts:
  - name: a
    triggers: {logic_type: all, conditions: [{type: first_seen_event, comparison: true}]}
    action_filters:
      - {logicType: any, conditions: [{type: latest_release, comparison: true}],
         actions: [{type: plugin, config: {}, data: {}}]}
"""))
    kind, directory = get_kind("alert"), Directory("acme")
    payloads = [kind.build_payload(d.resources[0].entry, directory=directory)
                for d in (friendly, sentry)]
    assert payloads[0] == payloads[1]
    assert payloads[0]["triggers"]["logicType"] == "all"
    assert payloads[0]["actionFilters"][0]["logicType"] == "any"
