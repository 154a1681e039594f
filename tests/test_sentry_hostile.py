"""Hostile answers fail closed and nothing hangs or eats the machine: an HTML login page, a
redirect or JSON of the wrong type on a list endpoint stops the plan (naming URL, status and
content type) instead of reading as "no objects"; a server trickling one byte at a time
hits the overall request deadline; a huge body is cut off at the size cap while it streams.
"""

from __future__ import annotations

import asyncio
import textwrap

import pytest
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.sentry.answers import AnswerLimits, ResponseTooLarge
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import SentryConnectionError
from tests import hostile_http
from tests.hostile_http import hostile_server

MANIFEST = """
metric_alerts:
  - name: Errors
    project: backend
    aggregate: count()
    time_window: 5m
    triggers: {critical: {threshold: 100, actions: [{email: {user: ana@example.com}}]}}
"""


@pytest.fixture
def manifests(tmp_path):
    root = tmp_path / "sentry"
    root.mkdir()
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
    (root / "r.yaml").write_text(textwrap.dedent(MANIFEST))
    return root


@pytest.mark.parametrize(("behaviour", "shown"), [
    (hostile_http.html_page, "answered 200 (text/html; charset=utf-8), not Sentry's JSON"),
    (hostile_http.redirect,
     "answered 301 (no content type): a redirect to https://sentry.example/api/0/"),
    (hostile_http.json_object,
     "(200, application/json) answered JSON dict where Sentry documents a list"),
])
def test_a_list_answered_outside_the_documented_shape_stops_the_plan(
        manifests, monkeypatch, behaviour, shown):
    with hostile_server() as server:
        server.behaviour = behaviour
        monkeypatch.setenv("SENTRY_URL", server.url)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", "hostile-token")
        monkeypatch.setenv("NO_COLOR", "1")
        result = CliRunner().invoke(cli, ["plan", str(manifests), "--format", "json"],
                                    catch_exceptions=False)
        assert any("/alert-rules/" in path for path in server.requests)
    assert result.exit_code == 1
    assert shown in result.stderr
    assert f"{server.url}/api/0/organizations/acme/alert-rules/" in result.stderr
    assert "hostile-token" not in result.stderr
    assert result.stdout == ""  # no plan, so nothing to create


def failed_read(behaviour, limits: AnswerLimits, expected: type[Exception]):
    """The error one GET of a list endpoint raises against the hostile server, and the
    bytes the server managed to send."""
    async def scenario(url: str) -> Exception:
        client = SentryClient(base_url=url, token="t", limits=limits)
        try:
            with pytest.raises(expected) as raised:
                await client.send("GET", "organizations/acme/alert-rules/")
            return raised.value
        finally:
            await client.aclose()

    with hostile_server() as server:
        server.behaviour = behaviour(server)
        error = asyncio.run(scenario(server.url))
        return error, server.bytes_sent


def test_a_trickling_server_hits_the_overall_deadline():
    error, _ = failed_read(lambda server: hostile_http.trickle(server, every=0.3),
                           AnswerLimits(deadline=1.5, max_bytes=1 << 20),
                           SentryConnectionError)
    assert "did not finish answering GET /api/0/organizations/acme/alert-rules/ within 1.5s" \
        in str(error)
    assert isinstance(error, SentryConnectionError) and error.sent


@pytest.mark.parametrize("declare", [True, False])
def test_a_huge_body_is_refused_while_it_streams(declare):
    total = 100 * 1024 * 1024
    error, sent = failed_read(
        lambda server: hostile_http.huge(server, total=total, declare=declare),
        AnswerLimits(deadline=30, max_bytes=1 << 20), ResponseTooLarge)
    assert "over the 1,048,576-byte limit (DEXTER_MAX_RESPONSE_MB)" in str(error)
    assert isinstance(error, ResponseTooLarge) and error.code == "sentry-response-too-large"
    # the client stopped reading long before the 100 MB were sent (socket buffers aside)
    assert sent < total // 4
