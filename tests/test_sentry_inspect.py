"""`dexter inspect issue` and the composite issue context, the embedded emulator target,
and keeping the token out of every log line, error text and CLI output."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dexter_sync.cli.embedded import embedded_notice, open_embedded
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.state import DesiredResource, DesiredState, ManifestSettings
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.kinds.issue_alerts.model import IssueAlertEntry
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.connect import open_facade
from dexter_sync.sentry.errors import BadRequest, ServerError
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway, GatewaySettings
from dexter_sync.sentry.redaction import install_log_redaction
from dexter_sync.sentry.retrying import RetryPolicy

CANARY = "sntrys_CANARY_token_0123456789abcdef"
DEXTER = [sys.executable, "-c", "from dexter_sync.cli.main import main; main()"]


def send_event(emu, project: str, message: str, *, browser: str = "Chrome") -> None:
    client = emu.client()
    key = client.get(f"projects/{emu.organization}/{project}/keys/").json()[0]
    response = httpx.post(f"{emu.url}/api/{key['projectId']}/store/",
                          params={"sentry_key": key["public"]},
                          json={"message": message, "level": "error", "platform": "python",
                                "tags": {"browser": browser}})
    assert response.status_code == 200, response.text


def first_issue(emu, field: str = "id") -> str:
    issues = emu.client().get(f"organizations/{emu.organization}/issues/",
                              params={"query": ""}).json()
    return issues[0][field]


def run_cli(*args: str, env: dict[str, str],
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("SENTRY_URL", "SENTRY_AUTH_TOKEN", "SENTRY_ORG")}
    full_env.update(env)
    return subprocess.run([*DEXTER, *args], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_issue_context_fetches_the_parts_in_parallel():
    with running_emulator(projects=["web"]) as emu:
        for browser in ("Chrome", "Chrome", "Firefox"):
            send_event(emu, "web", "boom in checkout", browser=browser)
        issue = first_issue(emu)
        emu.reset_counters()

        async def main():
            facade = SentryFacade(Gateway(SentryClient(base_url=emu.url, token=emu.token)),
                                  emu.organization)
            try:
                first = await facade.issue_context(issue)
                second = await facade.issue_context(issue)  # served by the TTL cache
                return first, second, facade
            finally:
                await facade.aclose()

        context, again, facade = asyncio.run(main())
        counters = emu.counters()

    assert context == again and facade.gateway.cache.hits == 1
    assert context["issue"]["id"] == issue and context["issue"]["count"] == "3"
    assert len(context["latest_events"]) == 3
    browser = next(t for t in context["tags"] if t["key"] == "browser")
    assert {v["value"] for v in browser["topValues"]} == {"Chrome", "Firefox"}
    assert "24h" in context["stats"]
    # the emulator has no participants listing (404): the issue detail's own `participants`
    # fill the part, so nothing is missing
    assert context["participants"] == []
    assert context["missing"] == []
    assert counters["total"] == 4  # issue, events, tags, participants: once each


def test_cli_inspect_issue_json_and_text_never_show_the_token():
    with running_emulator(projects=["web"], token=CANARY) as emu:
        send_event(emu, "web", "boom")
        issue, short_id = first_issue(emu), first_issue(emu, "shortId")
        env = {"SENTRY_AUTH_TOKEN": CANARY, "SENTRY_URL": emu.url}
        as_json = run_cli("--verbose", "--debug", "inspect", "issue", issue, "--org", "acme",
                          "--format", "json", env=env)
        as_text = run_cli("-v", "inspect", "issue", short_id, "--org", "acme", env=env)
        missing = run_cli("-v", "inspect", "issue", "999999", "--org", "acme", env=env)
        bad_token = run_cli("inspect", "issue", issue, "--org", "acme",
                            env={**env, "SENTRY_AUTH_TOKEN": CANARY + "x"})

    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["issue"]["id"] == issue
    assert "sentry requests: 4" in as_json.stderr  # the --verbose summary
    assert as_text.returncode == 0 and "latest events (1):" in as_text.stdout
    assert as_text.stdout.startswith(f"{short_id}  boom")
    assert missing.returncode == 1 and "404" in missing.stderr and "Traceback" not in missing.stderr
    assert bad_token.returncode == 1 and "SENTRY_AUTH_TOKEN" in bad_token.stderr
    for result in (as_json, as_text, missing, bad_token):
        assert CANARY not in result.stdout + result.stderr


def test_cli_fails_fast_with_a_clear_message_when_sentry_is_down():
    with running_emulator(projects=["web"]) as emu:
        emu.set_faults(error_rate=1.0)
        result = run_cli("inspect", "issue", "1", "--org", "acme", "--verbose",
                         env={"SENTRY_AUTH_TOKEN": emu.token, "SENTRY_URL": emu.url})
        served = emu.counters()["total"]
    assert result.returncode == 1
    assert "circuit breaker open" in result.stderr and "Traceback" not in result.stderr
    # The --verbose log lists every answer in the order the client got it, and the moment
    # the breaker opened. A 404 (participants) is a healthy answer that resets the count, so
    # the total depends on timing; what does not: the breaker opened after `threshold`
    # consecutive failures, and after it opened only the calls already in flight on the
    # other parts were answered, plus one probe per half-open move.
    lines = result.stderr.splitlines()
    answers = [line for line in lines if "HTTP Request:" in line]
    assert len(answers) == served  # every request the emulator served, the client logged
    parts = {re.search(r"GET (\S+?)(\?|\s)", line).group(1) for line in answers}
    assert len(parts) == 4  # the issue, its tags, events and participants, in parallel
    threshold = GatewaySettings().breaker_threshold
    opened = [i for i, line in enumerate(lines) if "circuit breaker for" in line
              and "closed->open" in line]
    assert len(opened) == 1 and f"after {threshold} consecutive failures" in lines[opened[0]]
    probes = sum("circuit breaker for" in line and "open->half_open" in line
                 for line in lines)
    after_open = [line for line in lines[opened[0]:] if "HTTP Request:" in line]
    assert len(after_open) <= (len(parts) - 1) + probes


def test_token_is_redacted_even_when_the_server_echoes_it(caplog):
    async def echo(scope, receive, send):  # a server that reflects the Authorization header
        if scope["type"] != "http":
            return
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        status = 500 if scope["path"].endswith("/boom/") else 400
        body = json.dumps({"detail": f"bad credentials: {auth}"}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    async def main():
        client = SentryClient(base_url="http://echo.test", token=CANARY,
                              transport=httpx.ASGITransport(app=echo))
        gateway = Gateway(client, GatewaySettings(retry=RetryPolicy(attempts=2, initial=0.01,
                                                                    maximum=0.01, jitter=0)))
        facade = SentryFacade(gateway, "acme")
        errors = []
        from dexter_sync.core.requests import ApiRequest
        for path in ("organizations/acme/boom/", "organizations/acme/x/"):
            try:
                await facade.send(ApiRequest("GET", path))
            except (ServerError, BadRequest) as error:
                errors.append(error)
                logging.getLogger("dexter_sync.test").exception("request failed: %s", error)
        summary = facade.metrics_summary()
        await facade.aclose()
        return errors, summary

    caplog.set_level(logging.DEBUG)
    install_log_redaction()
    errors, summary = asyncio.run(main())  # the client registers the token as a secret
    logging.getLogger("dexter_sync.test").warning("the token is %s", CANARY)
    assert len(errors) == 2 and "bad credentials: Bearer [redacted]" in str(errors[1])
    texts = [str(e) for e in errors] + [e.detail for e in errors] + [summary, caplog.text]
    assert "attempt #2/2" in caplog.text  # the retry was logged...
    assert [t for t in texts if CANARY in t] == []  # ...and nothing holds the token
    assert "[redacted]" in caplog.text


def test_embedded_emulator_is_announced_and_seeded_from_the_manifests(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SENTRY_URL", raising=False)
    monkeypatch.delenv("SENTRY_AUTH_TOKEN", raising=False)
    entry = IssueAlertEntry.model_validate({
        "name": "payments down", "project": "payments", "environment": "prod",
        "owner": "team:backend", "conditions": ["first_seen_event"],
        "actions": [{"slack": {"channel": "#pay-alerts", "workspace": "Pay Slack"}}]})
    desired = DesiredState(settings=ManifestSettings(organization="acme", root="."),
                           resources=[DesiredResource("issue_alert", "payments/payments down",
                                                      entry)])
    notices: list[str] = []

    async def main():
        async with open_facade(sentry_url=None, organization="acme", desired=desired,
                               verbose=True, notify=notices.append,
                               embedded=open_embedded) as facade:
            assert not facade.gateway.limiter.pacing  # in process: nothing to be polite to
            return await facade.read_state(["issue_alert"], projects=["payments"])

    live = asyncio.run(main())
    assert notices[0] == embedded_notice()
    assert notices[1].startswith("first use: created what the manifests name")
    assert "  projects: payments" in notices
    assert notices[-1].startswith("sentry requests:")
    assert (tmp_path / ".dexter" / "local-sentry.sqlite").exists()
    directory = live.directory
    assert "payments" in directory.projects and directory.team_id("backend")
    assert "prod" in directory.environments
    assert directory.integration("Pay Slack", "slack") is not None
    assert live.of_kind("issue_alert") == []

    notices.clear()
    asyncio.run(main())  # a second run: announced again, nothing new to seed
    assert notices[0] == embedded_notice() and not any("first use" in n for n in notices)


def test_no_url_and_no_embedded_sentry_is_a_clear_error(monkeypatch):
    """Only the CLI supplies the embedded emulator; elsewhere a missing URL is an error."""
    monkeypatch.delenv("SENTRY_URL", raising=False)

    async def main():
        async with open_facade(sentry_url=None, organization="acme"):
            pass

    with pytest.raises(DexterError, match="SENTRY_URL is not set") as raised:
        asyncio.run(main())
    assert raised.value.code == "missing-sentry-url"


def test_real_url_without_a_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("SENTRY_AUTH_TOKEN", raising=False)

    async def main():
        async with open_facade(sentry_url="https://sentry.example", organization="acme"):
            pass

    with pytest.raises(Exception, match="SENTRY_AUTH_TOKEN is not set"):
        asyncio.run(main())
