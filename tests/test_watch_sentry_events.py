"""Sentry's happenings through the daemon (a subprocess against `dexter emulator`):
incidents opened/resolved, deploys, regressed issues; `--notify` delivering to a local HTTP
receiver standing in for Slack; an outage (faults at 100%) and its end."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers_watch import Emulator, applied, manifests, poll, watching

__all__ = ["applied", "manifests"]  # fixtures shared through helpers_watch


@pytest.fixture
def emu(applied: Emulator) -> Emulator:
    return applied


class SlackStandIn:
    """A local HTTP receiver for Slack's incoming-webhook endpoint: records each JSON body;
    answers 500 to the first `fail_first` posts (Slack has bad moments too)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.bodies.append(json.loads(raw))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_incidents_opened_and_resolved(emu: Emulator, manifests: Path) -> None:
    with watching(emu, manifests, "--events", "incident.*") as daemon:
        daemon.wait_started()
        emu.admin.post("incidents/", json={"action": "open", "rule": "backend errors"}
                       ).raise_for_status()
        opened = daemon.wait_for(lambda e: e["type"] == "incident.opened", what="opened")
        assert (opened["kind"], opened["key"]) == ("incident", "1")
        assert opened["data"]["alert_rule"]["name"] == "backend errors"
        assert opened["data"]["projects"] == ["backend"]
        emu.admin.post("incidents/", json={"action": "resolve", "identifier": "1"}
                       ).raise_for_status()
        resolved = daemon.wait_for(lambda e: e["type"] == "incident.resolved", what="resolved")
        assert resolved["data"]["status"] == 2 and resolved["data"]["date_closed"]
        daemon.wait_cycles(2)
        assert [e["type"] for e in daemon.events()] == ["incident.opened", "incident.resolved"]


def test_deploys_and_regressions(emu: Emulator, manifests: Path) -> None:
    import sys

    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    dsn = emu.api.get("projects/acme/backend/keys/").json()[0]["dsn"]["public"]

    def send() -> None:
        sdk = sentry_sdk.Client(dsn=dsn, default_integrations=False)
        try:
            raise RuntimeError("payment declined")
        except RuntimeError:
            event, hint = event_from_exception(sys.exc_info(), client_options=sdk.options)
            sdk.capture_event(event, hint=hint, scope=sentry_sdk.Scope(client=sdk))
        sdk.flush(timeout=10)
        sdk.close()

    send()  # an issue that exists before the daemon starts is not news
    with watching(emu, manifests, "--events", "issue.*,release.*") as daemon:
        daemon.wait_started()
        emu.api.post("organizations/acme/releases/", json={
            "version": "shop@2.0.0", "projects": ["backend"]}).raise_for_status()
        emu.api.post("organizations/acme/releases/shop@2.0.0/deploys/", json={
            "environment": "production", "name": "rollout-1"}).raise_for_status()
        deployed = daemon.wait_for(lambda e: e["type"] == "release.deployed", what="deploy")
        assert (deployed["key"], deployed["data"]["environment"]) == ("shop@2.0.0",
                                                                     "production")
        assert deployed["data"]["deploy_name"] == "rollout-1"

        issue = emu.api.get("organizations/acme/issues/").json()[0]
        emu.api.put(f"organizations/acme/issues/{issue['id']}/",
                    json={"status": "resolved"}).raise_for_status()
        daemon.wait_cycles(1)
        send()  # the resolved issue comes back
        regressed = daemon.wait_for(lambda e: e["type"] == "issue.regressed", what="regressed")
        assert regressed["data"]["id"] == issue["id"]
        daemon.wait_cycles(2)
        assert daemon.of_type("issue.new") == []
        assert len(daemon.of_type("issue.regressed")) == 1


def test_notify_posts_block_kit_to_slack_with_retries(emu: Emulator, manifests: Path) -> None:
    slack = SlackStandIn(fail_first=1)
    try:
        with watching(emu, manifests, "--notify", slack.url, "--notify-events",
                      "drift.detected") as daemon:
            daemon.wait_started()
            rule = emu.rule_named("backend errors")
            emu.oob("metric_rule", "update", id=int(rule["id"]), fields={"query": "level:fatal"})
            daemon.wait_for(lambda e: e["type"] == "drift.detected", what="drift")
            poll(lambda: slack.bodies, what="the Slack message")
            message = slack.bodies[0]
            assert message["text"] == "Drift detected: metric_alert/backend errors"
            kinds = [b["type"] for b in message["blocks"]]
            assert kinds == ["header", "section", "context"]
            section = message["blocks"][1]["text"]["text"]
            assert "`query`" in section and "ui-user@example.com" in section
            assert slack.attempts == 2  # the 500 was retried
            assert daemon.metric('dexter_watch_notifications_total{result="sent"}') == 1
            assert daemon.stop() == 0
            assert not any(slack.url in line for line in daemon.err.snapshot())
        assert len(slack.bodies) == 1
    finally:
        slack.close()


@pytest.mark.slow
def test_outage_is_reported_then_recovery(emu: Emulator, manifests: Path) -> None:
    with watching(emu, manifests, "--unavailable-after", "2") as daemon:
        assert daemon.url is not None
        daemon.wait_started()
        emu.faults(error_rate=1.0, error_statuses=[503])
        down = daemon.wait_for(lambda e: e["type"] == "sentry.unavailable", what="outage")
        assert down["data"]["failed_cycles"] == 2
        assert "503" in down["data"]["reason"]
        health = httpx.get(f"{daemon.url}/healthz")
        assert health.status_code == 503 and "Sentry unreachable" in health.json()["reason"]
        assert daemon.metric("dexter_watch_sentry_available") == 0
        emu.faults(reset=True)
        back = daemon.wait_for(lambda e: e["type"] == "sentry.recovered", what="recovery",
                               timeout=60)
        assert back["data"]["failed_cycles"] >= 2
        assert httpx.get(f"{daemon.url}/healthz").status_code == 200
        assert len(daemon.of_type("sentry.unavailable")) == 1
        assert daemon.of_type("drift.resolved") == []  # an outage never looks like "resolved"
        assert daemon.stop() == 0


def test_a_new_release_with_a_clearly_higher_error_rate_is_a_regression(
        emu: Emulator, manifests: Path) -> None:
    def release(version: str) -> None:
        emu.api.post("organizations/acme/releases/", json={
            "version": version, "projects": ["backend"]}).raise_for_status()

    def events(version: str, error_rate: float, seed: int) -> None:
        emu.admin.post("events/generate/", json={
            "count": 2000, "projects": ["backend"], "seed": seed,
            "releases": [{"version": version, "error_rate": error_rate}]}).raise_for_status()

    release("shop@1.0.0")
    events("shop@1.0.0", 0.02, 1)
    with watching(emu, manifests, "--events", "release.*", "--regression-check",
                  "200ms") as daemon:
        daemon.wait_started()
        release("shop@1.1.0")  # as healthy as 1.0.0: never a regression
        events("shop@1.1.0", 0.02, 2)
        release("shop@2.0.0")  # ten times the errors of 1.1.0
        events("shop@2.0.0", 0.2, 3)
        found = daemon.wait_for(lambda e: e["type"] == "release.regression",
                                what="release.regression")
        assert (found["kind"], found["key"]) == ("release", "shop@2.0.0")
        data = found["data"]
        assert (data["previous"], data["verdict"], data["regression"]) == (
            "shop@1.1.0", "regression", True)
        assert data["rate_ratio"] > 5 and data["candidate"]["events"] == 2000
        daemon.wait_cycles(3)
        assert [e["key"] for e in daemon.of_type("release.regression")] == ["shop@2.0.0"]
    # the same verdict as `dexter releases compare`
    compared = emu.dexter("releases", "compare", "shop@1.1.0", "shop@2.0.0", "--org", "acme",
                          "--format", "json")
    assert compared.returncode == 0, compared.stderr
    verdict = json.loads(compared.stdout)
    assert {k: verdict[k] for k in ("verdict", "rate_ratio", "z_score")} == {
        k: data[k] for k in ("verdict", "rate_ratio", "z_score")}
