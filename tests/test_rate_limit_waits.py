"""Rate limits: one layer retries (the gateway, with one documented bound), and no single
wait is longer than the cap (`--max-rate-limit-wait`, default 60 s): a longer one fails at
once with `[rate-limited]`, and a wait within the cap is announced on stderr.

Servers: small ASGI apps answering as a rate-limiting Sentry or proxy would (a 429 with
`Retry-After: 3600`, or a window reset an hour away), and the emulator on loopback.
"""

from __future__ import annotations

import time

import httpx
import pytest
from click.testing import CliRunner

from dexter_sync.apply.creating import create_safely
from dexter_sync.apply.report import Status
from dexter_sync.cli.main import cli
from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.requests import ApiRequest
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.kinds.registry import get_kind
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import RateLimitWaitTooLong
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway, GatewaySettings
from dexter_sync.sentry.retrying import RetryPolicy
from tests.test_plan_cli import manifests
from tests.test_sentry_client import app_of, run

TEAMS = ApiRequest("GET", "organizations/acme/teams/")


def gateway_on(app, notify=None, **settings) -> Gateway:
    client = SentryClient(base_url="http://sentry.test", token="test-token-9",
                          transport=httpx.ASGITransport(app=app))
    return Gateway(client, GatewaySettings(**settings), notify=notify)


def test_a_rate_limited_write_goes_out_at_most_the_gateway_bound():
    """Before: the gateway retried a 429 six times and apply resent the write six times on
    top: 36 POSTs. Now the gateway is the one owner of retries: RetryPolicy.attempts."""
    app = app_of(lambda m, p, q: (429, {"retry-after": "0"}, {"detail": "slow down"}))
    gateway = gateway_on(app)
    facade = SentryFacade(gateway, "acme")
    change = ResourceChange(Action.CREATE, "release", "backend@1.0",
                            payload={"version": "backend@1.0", "projects": ["backend"]})
    outcome = run(lambda: create_safely(facade, get_kind("release"), "acme", change), gateway)
    posts = [s for s in app.seen if s[0] == "POST"]
    assert len(posts) == RetryPolicy().attempts == 6
    assert outcome.status is Status.FAILED and outcome.detail is not None
    assert "429" in outcome.detail


@pytest.mark.parametrize("headers", [
    {"retry-after": "3600"},
    {"x-sentry-rate-limit-limit": "40", "x-sentry-rate-limit-remaining": "0",
     "x-sentry-rate-limit-reset": "{reset}"},
], ids=["retry-after", "window-reset"])
def test_a_wait_beyond_the_cap_fails_at_once_with_rate_limited(headers):
    def answer(method, path, query):
        reset = str(int(time.time()) + 3600)
        return 429, {k: v.format(reset=reset) for k, v in headers.items()}, {
            "detail": "You are attempting to use this endpoint too frequently."}

    app = app_of(answer)
    gateway = gateway_on(app, max_rate_limit_wait=60)
    with pytest.raises(RateLimitWaitTooLong) as refused:
        run(lambda: gateway.request(TEAMS), gateway)
    assert refused.value.code == "rate-limited"
    assert 3590 <= refused.value.wait <= 3600 and refused.value.cap == 60
    assert "GET organizations/{org}/teams/" in str(refused.value)
    assert "--max-rate-limit-wait" in str(refused.value)
    assert len(app.seen) == 1  # the retry was never sent


def test_a_wait_within_the_cap_is_announced_and_then_sent():
    answers = iter([(429, {"retry-after": "1.5"}, {"detail": "slow down"}),
                    (200, {}, [{"id": "1", "slug": "backend-team"}])])
    app = app_of(lambda m, p, q: next(answers))
    heard: list[str] = []
    gateway = gateway_on(app, notify=heard.append)
    response = run(lambda: gateway.request(TEAMS), gateway)
    assert response.status == 200 and len(app.seen) == 2
    [message] = heard
    assert message.startswith("waiting 1.") and "s for Sentry's rate limit on " \
        "GET organizations/{org}/teams/" in message


def test_the_cli_fails_with_rate_limited_and_the_cap_is_configurable(tmp_path, monkeypatch):
    root = manifests(tmp_path)
    with running_emulator(projects=["backend"], teams=["backend-team"]) as emu:
        monkeypatch.setenv("SENTRY_URL", emu.url)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", emu.token)
        monkeypatch.delenv("SENTRY_ORG", raising=False)
        # one request per endpoint per (very long) window: a second plan meets 429s whose
        # window resets years from now
        emu.set_rate_limit(enabled=True, limit=1, window=10**9)
        runner = CliRunner()
        first = runner.invoke(cli, ["plan", str(root)], catch_exceptions=False)
        assert first.exit_code == 0, first.stderr
        flag = runner.invoke(cli, ["plan", str(root), "--max-rate-limit-wait", "5"],
                             catch_exceptions=False)
        env = runner.invoke(cli, ["plan", str(root)], catch_exceptions=False,
                            env={"DEXTER_MAX_RATE_LIMIT_WAIT": "2"})
    for result, cap in ((flag, "5s"), (env, "2s")):
        assert result.exit_code == 1
        last = result.stderr.rstrip().splitlines()[-1]
        assert last.startswith("error: Sentry's rate limit on GET ") and \
            last.endswith("[rate-limited]")
        assert f"longer than the {cap} dexter waits at most" in last
