"""`dexter inspect alert NAME`: an issue alert's firings per issue, recorded by the emulator
when events sent by the real sentry-sdk trigger it (first seen, regression, every event
within the rule's frequency), and read back from the group-history endpoint."""

from __future__ import annotations

import json
import sys

import sentry_sdk
from sentry_sdk.utils import event_from_exception

from dexter_sync.emulator.testing import running_emulator
from tests.test_sentry_inspect import run_cli

EMAIL = [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
          "fallthroughType": "ActiveMembers"}]
CONDITIONS = "sentry.rules.conditions."


def make_rule(client, name: str, condition: str, *, frequency: int = 30) -> int:
    made = client.post("projects/acme/backend/rules/", json={
        "name": name, "actionMatch": "all", "filterMatch": "all", "frequency": frequency,
        "conditions": [{"id": CONDITIONS + condition}], "filters": [], "actions": EMAIL})
    assert made.status_code == 200, made.text  # Sentry answers a project rule create 200
    return int(made.json()["id"])


def send_errors(emu, values: list[str]) -> None:
    dsn = emu.client().get("projects/acme/backend/keys/").json()[0]["dsn"]["public"]
    sdk = sentry_sdk.Client(dsn=dsn, environment="production", default_integrations=False)
    scope = sentry_sdk.Scope(client=sdk)
    for value in values:
        try:
            raise RuntimeError(value)
        except RuntimeError:
            event, hint = event_from_exception(sys.exc_info(), client_options=sdk.options)
            sdk.capture_event(event, hint=hint, scope=scope)
    sdk.flush(timeout=10)
    sdk.close()


def firings(emu, name: str) -> dict:
    done = run_cli("inspect", "alert", name, "--format", "json",
                   env={"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
                        "SENTRY_ORG": "acme"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_issue_alert_firings_per_issue_from_sdk_events():
    with running_emulator(projects=["backend"], members=["oncall@acme.example"]) as emu:
        client = emu.client()
        make_rule(client, "New issues", "first_seen_event.FirstSeenEventCondition")
        make_rule(client, "Regressions", "regression_event.RegressionEventCondition")
        make_rule(client, "Every event", "every_event.EveryEventCondition", frequency=30)
        send_errors(emu, ["disk full", "disk full", "timeout", "disk full"])

        history = firings(emu, "New issues")
        assert history["kind"] == "issue_alert" and history["project"] == "backend"
        counts = {f["group"]["title"]: f["count"] for f in history["firings"]}
        assert counts == {"RuntimeError: disk full": 1, "RuntimeError: timeout": 1}
        assert all(len(f["eventId"]) == 32 for f in history["firings"])
        # every event, but once per issue within the rule's 30 minutes
        every = {f["group"]["title"]: f["count"] for f in firings(emu, "Every event")["firings"]}
        assert every == {"RuntimeError: disk full": 1, "RuntimeError: timeout": 1}
        assert firings(emu, "Regressions")["firings"] == []

        timeout = next(i for i in client.get("organizations/acme/issues/").json()
                       if i["title"] == "RuntimeError: timeout")
        resolved = client.put(f"organizations/acme/issues/{timeout['id']}/",
                              json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text
        send_errors(emu, ["timeout"])
        regressions = firings(emu, "Regressions")["firings"]
        assert [(f["group"]["shortId"], f["count"]) for f in regressions] == [
            (timeout["shortId"], 1)]

        text = run_cli("inspect", "alert", "New issues",
                       env={"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
                            "SENTRY_ORG": "acme"})
        assert text.returncode == 0, text.stderr
        assert text.stdout.splitlines()[0].startswith(
            "issue alert 'New issues' (backend, id ")
        assert "fired 2 times for 2 issues in the last 14d" in text.stdout

        missing = run_cli("inspect", "alert", "New issue",
                          env={"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
                               "SENTRY_ORG": "acme"})
        assert missing.returncode == 1
        assert "no metric or issue alert called 'New issue' (did you mean 'New issues'?)" \
            in missing.stderr


def test_metric_alert_incidents_and_their_status_changes():
    with running_emulator(projects=["backend"], teams=["platform"]) as emu:
        client = emu.client()
        team = client.get("organizations/acme/teams/").json()[0]["id"]
        made = client.post("organizations/acme/alert-rules/", json={
            "name": "Error spike", "aggregate": "count()", "query": "", "timeWindow": 5,
            "projects": ["backend"], "thresholdType": 0, "triggers": [{
                "label": "critical", "alertThreshold": 10, "actions": [
                    {"type": "email", "targetType": "team", "targetIdentifier": team}]}]})
        assert made.status_code == 201, made.text
        first = emu.open_incident("Error spike", status=20)
        emu.resolve_incident(first["identifier"])
        second = emu.open_incident("Error spike", status=10)

        history = firings(emu, "Error spike")
        assert history["kind"] == "metric_alert" and history["firings"] == []
        incidents = {i["identifier"]: i for i in history["incidents"]}
        assert set(incidents) == {str(first["identifier"]), str(second["identifier"])}
        closed = incidents[str(first["identifier"])]
        assert closed["status"] == 2 and closed["dateClosed"] is not None
        changes = [(a["previousValue"], a["value"]) for a in closed["activities"]
                   if a["type"] == 2]
        assert changes == [("1", "20"), ("20", "2")]

        text = run_cli("inspect", "alert", "Error spike",
                       env={"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
                            "SENTRY_ORG": "acme"})
        assert text.returncode == 0, text.stderr
        assert "metric alert 'Error spike' (id " in text.stdout
        assert "2 incidents in the last 14d" in text.stdout
        assert "status change open -> critical" in text.stdout
        assert "status change critical -> resolved" in text.stdout
        assert f"#{second['identifier']}  warning" in text.stdout
