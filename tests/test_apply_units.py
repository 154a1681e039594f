"""Apply's pure parts: waves in dependency order, failure classification, task answers,
report rendering and exit codes, progress arithmetic."""

from __future__ import annotations

import io
import json

import pytest

from dexter_sync.apply.failures import classify, from_response
from dexter_sync.apply.progress import BarProgress, LineProgress, format_eta
from dexter_sync.apply.report import (
    TEXT_LIST_LIMIT,
    ApplyReport,
    ChangeOutcome,
    Status,
    render_json,
    render_text,
)
from dexter_sync.apply.tasks import interpret, task_project, task_uuid
from dexter_sync.apply.waves import kind_depths, plan_waves
from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.sources import SourceSpan
from dexter_sync.kinds.registry import get_kind
from dexter_sync.sentry.errors import CircuitOpenError, SentryConnectionError, error_for

DEPS = {
    "repository": (),
    "code_mapping": ("repository",),
    "release": (),
    "deploy": ("release",),
    "metric_alert": (),
}


def change(action: Action, kind: str, key: str, **kw) -> ResourceChange:
    return ResourceChange(action=action, kind=kind, key=key, **kw)


def test_waves_put_dependencies_first_and_deletes_last_in_reverse():
    changes = [
        change(Action.DELETE, "repository", "old/repo"),
        change(Action.CREATE, "deploy", "1.0/production/"),
        change(Action.CREATE, "code_mapping", "backend/acme/api/"),
        change(Action.NOOP, "metric_alert", "same"),
        change(Action.UPDATE, "metric_alert", "cpu"),
        change(Action.CREATE, "release", "1.0"),
        change(Action.DELETE, "code_mapping", "backend/old/repo/"),
        change(Action.CREATE, "repository", "acme/api"),
    ]
    waves = plan_waves(changes, depends_on=DEPS)
    layout = [(w.phase, w.depth, [c.address for c in w.changes]) for w in waves]
    assert layout == [
        ("write", 0, ["metric_alert/cpu", "release/1.0", "repository/acme/api"]),
        ("write", 1, ["deploy/1.0/production/", "code_mapping/backend/acme/api/"]),
        ("delete", 1, ["code_mapping/backend/old/repo/"]),
        ("delete", 0, ["repository/old/repo"]),
    ]


def test_wave_depths_follow_chains_and_refuse_cycles():
    assert kind_depths({"a": (), "b": ("a",), "c": ("b", "a")}) == {"a": 0, "b": 1, "c": 2}
    with pytest.raises(DexterError) as caught:
        kind_depths({"a": ("b",), "b": ("a",)})
    assert caught.value.code == "kind-cycle"


def test_unknown_kind_runs_in_the_first_wave():
    waves = plan_waves([change(Action.CREATE, "novel", "x")], depends_on=DEPS)
    assert [(w.phase, w.depth) for w in waves] == [("write", 0)]


def _http_error(status: int, body):
    return error_for(status=status, method="POST", path="/api/0/x/", body=body, text="",
                     headers={})


def test_classify_maps_gateway_errors_to_what_apply_may_do():
    assert classify(_http_error(400, {"name": ["bad"]})).category == "rejected"
    assert classify(_http_error(404, {"detail": "gone"})).status == 404
    assert classify(_http_error(429, {"detail": "slow down"})).category == "rate-limited"
    assert classify(_http_error(502, None)).category == "ambiguous"
    assert classify(SentryConnectionError("dropped")).category == "ambiguous"
    assert classify(TimeoutError()).category == "ambiguous"
    breaker = CircuitOpenError("127.0.0.1", failures=5, retry_in=10)
    assert classify(breaker).category == "breaker"
    rejected = classify(_http_error(400, {"name": ["This rule is an exact duplicate"]}))
    assert "This rule is an exact duplicate" in rejected.message
    assert from_response(503, {"detail": "x"}).category == "ambiguous"
    assert from_response(400, ["no"]).category == "rejected"


def test_issue_alerts_read_the_rule_id_of_sentrys_exact_duplicate_body():
    issue_alert = get_kind("issue_alert")
    body = {"name": ["This rule is an exact duplicate of 'x' in this project"], "ruleId": [42]}
    assert issue_alert.existing_id_from_rejection(body) == "42"
    assert issue_alert.existing_id_from_rejection({"name": ["too long"]}) is None
    assert issue_alert.existing_id_from_rejection(["bare list"]) is None
    assert get_kind("metric_alert").existing_id_from_rejection(body) is None


def test_task_answers_are_read_without_guessing():
    assert task_uuid(202, {"uuid": "abc"}) == "abc"
    assert task_uuid(200, {"uuid": "abc"}) is None
    assert task_uuid(202, None) is None
    assert interpret({"status": "success", "rule": {"id": 7}}).live_id == "7"
    failed = interpret({"status": "failed", "error": "channel not found"})
    assert (failed.state, failed.error) == ("failed", "channel not found")
    assert interpret({"status": "pending", "rule": None}).state == "pending"
    metric = change(Action.CREATE, "metric_alert", "cpu", payload={"projects": ["backend"]})
    assert task_project(metric) == "backend"
    assert task_project(change(Action.CREATE, "issue_alert", "web/x", project="web")) == "web"


def _report() -> ApplyReport:
    span = SourceSpan("alerts/web.yaml", 12, 3)
    return ApplyReport("acme", [
        ChangeOutcome(change(Action.CREATE, "metric_alert", "cpu"), Status.APPLIED, None, "1", 1),
        ChangeOutcome(change(Action.CREATE, "issue_alert", "web/bad", span=span), Status.FAILED,
                      "Sentry answered 400 to POST /api/0/x/: frequency: too low", None, 1),
        ChangeOutcome(change(Action.DELETE, "metric_alert", "old"), Status.NOT_ATTEMPTED,
                      "circuit breaker open"),
    ], stopped="circuit breaker open", seconds=1.5)


def test_report_text_names_file_line_and_sentrys_text():
    text = render_text(_report())
    assert ("alerts/web.yaml:12: create issue_alert/web/bad: Sentry answered 400 to POST "
            "/api/0/x/: frequency: too low") in text
    assert "Not attempted (1):" in text and "delete metric_alert/old" in text
    assert "1 applied, 1 failed, 1 not attempted" in text


def test_report_json_and_exit_codes():
    report = _report()
    data = json.loads(render_json(report))
    assert data["summary"] == {"applied": 1, "failed": 1, "not_attempted": 1}
    assert data["changes"][1]["source"] == "alerts/web.yaml:12"
    assert data["stopped"] == "circuit breaker open"
    assert report.exit_code == 3
    report.outcomes = report.outcomes[:1]
    assert report.exit_code == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_shows_done_total_rate_and_eta():
    clock, stream = FakeClock(), io.StringIO()
    bar = BarProgress(stream, clock=clock, width=10)
    bar.start(10)
    for _ in range(4):
        clock.now += 0.5
        bar.advance(ChangeOutcome(change(Action.CREATE, "k", "x"), Status.APPLIED))
    assert bar.line() == "[####------] 4/10  2.0/s  ETA 00:03"
    assert format_eta(None) == "--:--" and format_eta(125) == "02:05"


def test_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    lines = LineProgress(stream)
    lines.start(2)
    lines.advance(ChangeOutcome(change(Action.UPDATE, "metric_alert", "cpu"), Status.APPLIED))
    lines.advance(ChangeOutcome(change(Action.CREATE, "k", "y"), Status.FAILED, "boom"))
    assert stream.getvalue().splitlines() == [
        "applying 2 changes",
        "[1/2] applied update metric_alert/cpu",
        "[2/2] failed create k/y: boom",
    ]
    assert "\r" not in stream.getvalue()


def test_report_text_is_capped_but_json_lists_everything():
    outcomes = [ChangeOutcome(ResourceChange(Action.CREATE, "discover_query", f"q{i}"),
                              Status.NOT_ATTEMPTED, "breaker") for i in range(250)]
    report = ApplyReport("acme", outcomes, stopped="breaker")
    text = render_text(report)
    assert text.count("create discover_query/") == TEXT_LIST_LIMIT
    assert f"... and {250 - TEXT_LIST_LIMIT} more" in text
    assert render_json(report).count('"not_attempted"') == 251  # 250 changes + summary key
