"""Apply when Sentry pushes back: a 429 storm is absorbed by the gateway, and a full outage
opens the circuit breaker, which stops new writes (reported "not attempted", exit 3) until a
later run completes the rest. Counts come from the emulator's API."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from dexter_sync.apply.executor import DEFAULT_CONCURRENCY
from dexter_sync.apply.report import Status
from dexter_sync.apply.tasks import TaskLimits
from dexter_sync.cli.main import cli
from tests.test_apply_support import (
    apply_sync,
    duplicates,
    list_all,
    live_names,
    plan_only,
    write_manifests,
)


def test_429_storm_finishes_without_surfacing_a_429(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=18, metric=12)
    emu.set_rate_limit(enabled=True, limit=5, window=1)
    emu.reset_counters()
    result = CliRunner().invoke(cli, ["apply", str(manifests), "--auto-approve", "--format",
                                      "json", "--sentry-url", emu.url], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"] == {"applied": 30, "failed": 0, "not_attempted": 0}
    assert all(c["detail"] is None for c in report["changes"])
    assert "too frequently" not in result.stderr and "answered 429" not in result.stderr
    names = live_names(emu)
    assert duplicates(names) == {} and len(names) == 30
    # Paced, not hammered: a 429 can only meet a request a worker sent before the endpoint's
    # budget was announced or as a window turned, at most one per worker per write endpoint;
    # a client that retried into the limit would meet several per write.
    endpoints = 2  # discover queries and metric alerts
    assert emu.counters()["rate_limited"] <= endpoints * DEFAULT_CONCURRENCY


def test_breaker_opens_in_a_full_outage_and_a_later_run_completes(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=40, metric=20)
    # plan while Sentry is healthy, then apply during a full outage
    _, report = apply_sync(emu, manifests, concurrency=4,
                           between=lambda _: emu.set_faults(error_rate=1.0, seed=3))
    assert report.exit_code == 3
    assert report.stopped and "circuit breaker open" in report.stopped
    skipped = report.of_status(Status.NOT_ATTEMPTED)
    assert len(skipped) >= 40, report.summary  # most of the run never started
    assert len(report.outcomes) == 60
    emu.reset_counters()
    # The outage is total: nothing can have been written.
    emu.clear_faults()
    assert sum(live_names(emu).values()) == 0

    _, later = apply_sync(emu, manifests)
    assert later.exit_code == 0 and len(later.outcomes) == 60
    names = live_names(emu)
    assert duplicates(names) == {} and len(names) == 60
    assert not asyncio.run(plan_only(emu, manifests)).has_changes


def test_a_rule_task_still_pending_at_the_bound_is_never_reported_applied(emu, tmp_path):
    emu.ensure_names(integrations=[("slack", "Acme Slack")],
                     slack_channels=[("Acme Slack", "#alerts")])
    slack = ("issue_alerts:\n  - name: slow-slack\n    project: backend\n"
             "    conditions: [first_seen_event]\n"
             "    actions:\n      - slack: {channel: '#alerts', workspace: Acme Slack}\n")
    manifests = write_manifests(tmp_path / "m", extra=slack)
    # a Sentry without the channel listing: the id is unknown at plan time
    emu.set_quirks(slack_async=True, channel_listing=False, slack_task_delay=30.0, slack_task_polls=1000)
    _, report = apply_sync(emu, manifests, tasks=TaskLimits(timeout=0.6))
    [outcome] = report.outcomes
    assert outcome.status is Status.FAILED and outcome.detail is not None
    assert "still pending" in outcome.detail
    assert report.exit_code == 3
    assert "slow-slack" not in live_names(emu)


def test_a_delete_of_an_object_already_gone_counts_as_applied(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=3)
    apply_sync(emu, manifests)
    pruning = write_manifests(tmp_path / "m", queries=1)
    (pruning / "dexter.yaml").write_text((pruning / "dexter.yaml").read_text()
                                         + "prune: {discover_queries: true}\n")
    gone = next(q for q in list_all(emu, f"organizations/{emu.organization}/discover/saved/")
                if q["name"] == "q-0002")
    _, report = apply_sync(
        emu, pruning, between=lambda _: emu.oob_change("saved_query", "delete", id=gone["id"]))
    details = {o.change.key: (o.status, o.detail) for o in report.outcomes}
    assert details == {"q-0001": (Status.APPLIED, None),
                       "q-0002": (Status.APPLIED, "already deleted")}
    assert sorted(live_names(emu)) == ["q-0000"]


def test_a_create_refused_because_it_appeared_meanwhile_is_adopted(emu, tmp_path):
    emu.ensure_names(integrations=[("github", "acme-github")],
                     repositories=[("acme/backend", "acme-github")])
    mapping = ("integration_links:\n  - type: code_mapping\n    project: backend\n"
               "    repository: acme/backend\n    stack_root: app/\n    source_root: src/\n"
               "    default_branch: main\n")
    manifests = write_manifests(tmp_path / "m", extra=mapping)
    path = f"organizations/{emu.organization}/code-mappings/"

    def race(plan):
        [change] = plan.changes
        # someone else creates the same mapping between the plan and the apply
        assert emu.client().post(path, json=change.payload).status_code == 201

    _, report = apply_sync(emu, manifests, between=race)
    [outcome] = report.outcomes
    assert outcome.status is Status.APPLIED and outcome.detail.startswith("adopted")
    [live] = list_all(emu, path)
    assert outcome.live_id == str(live["id"])
    posts = emu.counters()["routes"]["POST /api/0/organizations/{org}/code-mappings/"]
    assert posts == {"201": 1, "400": 1}  # the other client's create, then Sentry's refusal
