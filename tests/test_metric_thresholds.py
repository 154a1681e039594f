"""Percent-change thresholds are ordered after translation (REFERENCE §1.3).

Sentry turns a percent change `x` into `100 + x` (above) or `100 - x` (below) and only then
checks critical/warning/resolve order. dexter's check and the emulator's must agree with
that, and with each other: a rule the emulator accepts exports to a manifest dexter
validates, and a manifest dexter refuses is one the emulator refuses.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dexter_sync.core.directory import Directory
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.kinds.metric_alerts.model import MetricAlertEntry
from dexter_sync.kinds.registry import get_kind

DEXTER = [sys.executable, "-m", "dexter_sync.cli"]
METRIC = get_kind("metric_alert")
THRESHOLD_TYPES = {0: "above", 1: "below"}


def manifest_entry(rule: dict[str, Any]) -> dict[str, Any]:
    """The manifest form of a request body built by `rule_body`."""
    triggers = {t["label"]: {"threshold": t["alertThreshold"],
                             "actions": [{"email": {"team": "backend-team"}}]}
                for t in rule["triggers"]}
    entry: dict[str, Any] = {"name": "r", "project": "backend", "aggregate": "count()",
                             "time_window": "1h", "triggers": triggers,
                             "threshold_type": THRESHOLD_TYPES[rule["thresholdType"]]}
    if rule.get("comparisonDelta") is not None:
        entry["comparison_delta"] = f"{rule['comparisonDelta']}m"
    if rule.get("resolveThreshold") is not None:
        entry["resolve_threshold"] = rule["resolveThreshold"]
    return entry


def rule_body(team_id: str, *, threshold_type: int, delta: int | None, critical: float,
              warning: float | None, resolve: float | None) -> dict[str, Any]:
    action = {"type": "email", "targetType": "team", "targetIdentifier": team_id}
    triggers = [{"label": "critical", "alertThreshold": critical, "actions": [action]}]
    if warning is not None:
        triggers.append({"label": "warning", "alertThreshold": warning, "actions": [action]})
    body: dict[str, Any] = {"name": "r", "aggregate": "count()", "query": "", "timeWindow": 60,
                            "projects": ["backend"], "thresholdType": threshold_type,
                            "triggers": triggers}
    if delta is not None:
        body["comparisonDelta"] = delta
    if resolve is not None:
        body["resolveThreshold"] = resolve
    return body


@pytest.fixture(scope="module")
def emulator():
    with running_emulator(projects=["backend"], teams=["backend-team"]) as emu:
        client = emu.client()
        teams = client.get("organizations/acme/teams/").json()
        team_id = next(t["id"] for t in teams if t["slug"] == "backend-team")
        directory = Directory("acme", projects={"backend": "1"}, teams={"backend-team": team_id})
        yield emu, client, team_id, directory


def test_a_below_percent_rule_sentry_accepts_is_valid(emulator):
    """The issue's example: 80 % drop critical (→ 20), resolve at a 50 % drop (→ 50)."""
    _, client, team_id, _ = emulator
    body = rule_body(team_id, threshold_type=1, delta=1440, critical=80, warning=None,
                     resolve=50)
    assert client.post("organizations/acme/alert-rules/", json=body).status_code == 201
    entry = MetricAlertEntry.model_validate(manifest_entry(body))
    assert entry.resolve_threshold == 50
    # and a warning at a 50 % drop is "below" the critical 80 % drop once translated
    with_warning = rule_body(team_id, threshold_type=1, delta=1440, critical=80, warning=50,
                             resolve=None)
    assert client.post("organizations/acme/alert-rules/", json=with_warning).status_code == 201
    MetricAlertEntry.model_validate(manifest_entry(with_warning))


def test_translated_order_is_still_enforced(emulator):
    _, client, team_id, _ = emulator
    # below, percent: critical 30 % drop (→ 70) above warning 50 % drop (→ 50) is wrong
    body = rule_body(team_id, threshold_type=1, delta=1440, critical=30, warning=50,
                     resolve=None)
    refused = client.post("organizations/acme/alert-rules/", json=body)
    assert refused.status_code == 400
    assert refused.json() == {"nonFieldErrors": [
        "Critical trigger must have an alert threshold below warning trigger"]}
    with pytest.raises(ValidationError, match="must be at or below the warning threshold"):
        MetricAlertEntry.model_validate(manifest_entry(body))


NUMBERS = st.sampled_from([0, 1, 2, 10, 20, 30, 50, 80, 99, 100, 150, 10.5, 50.5])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(threshold_type=st.sampled_from([0, 1]),
       delta=st.sampled_from([None, 60, 1440, 10080]),
       critical=NUMBERS, warning=st.none() | NUMBERS, resolve=st.none() | NUMBERS)
def test_dexter_and_the_emulator_agree_and_exports_validate(emulator, threshold_type, delta,
                                                            critical, warning, resolve):
    """Property: the emulator accepts a rule exactly when dexter validates its manifest, and
    whatever export writes for an accepted rule validates."""
    _, client, team_id, directory = emulator
    body = rule_body(team_id, threshold_type=threshold_type, delta=delta, critical=critical,
                     warning=warning, resolve=resolve)
    answer = client.post("organizations/acme/alert-rules/", json=body)
    accepted = answer.status_code == 201
    if not accepted:
        assert answer.status_code == 400, answer.text
    try:
        MetricAlertEntry.model_validate(manifest_entry(body))
        dexter_accepts = True
    except ValidationError:
        dexter_accepts = False
    assert dexter_accepts == accepted, (body, answer.text)
    if accepted:
        live = client.get(f"organizations/acme/alert-rules/{answer.json()['id']}/").json()
        exported = METRIC.export(live, directory=directory)
        MetricAlertEntry.model_validate(exported)  # no "live" context: the full checks


def test_export_of_a_below_percent_rule_then_validate(tmp_path):
    # its own emulator: the module's holds many rules named "r" (ambiguous to an export)
    with running_emulator(projects=["backend"], teams=["backend-team"]) as emu:
        client = emu.client()
        team_id = next(t["id"] for t in client.get("organizations/acme/teams/").json()
                       if t["slug"] == "backend-team")
        body = rule_body(team_id, threshold_type=1, delta=10080, critical=80, warning=None,
                         resolve=50)
        body["name"] = "Traffic drop"
        assert client.post("organizations/acme/alert-rules/", json=body).status_code == 201
        env = {"SENTRY_AUTH_TOKEN": emu.token, "PATH": "/usr/bin:/bin"}
        out = tmp_path / "sentry"
        export = subprocess.run([*DEXTER, "export", "--sentry-url", emu.url, "--org", "acme",
                                 "--kinds", "metric_alert", "--out", str(out)],
                                capture_output=True, text=True, timeout=120, env=env,
                                check=False)
    assert export.returncode == 0, export.stderr
    assert "Traffic drop" in "".join(p.read_text() for p in out.rglob("*.yaml"))
    validate = subprocess.run([*DEXTER, "validate", str(out)], capture_output=True, text=True,
                              timeout=120, env=env, check=False)
    assert validate.returncode == 0, validate.stderr
