"""Pacing against Sentry's fixed windows: the client sends a window's budget (less what is in
flight), then waits for the window's reset instead of meeting a 429; and nothing after the
last answer adds time for nothing.

The emulator on loopback limits each endpoint as Sentry does: a fixed window aligned to the
clock, a concurrency cap, the `X-Sentry-Rate-Limit-*` headers and a bare 429 (no
`Retry-After`). Its counters tell what it answered; no timing is asserted.
"""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from dexter_sync.cli.common import run
from dexter_sync.cli.main import cli
from dexter_sync.core.requests import ApiRequest
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.gateway import Gateway, GatewaySettings
from dexter_sync.sentry.retrying import RetryPolicy

pytestmark = pytest.mark.slow

PROJECTS = 12
LIMIT = 5
"""Requests per one-second window: 12 requests need three windows."""
RULES = "GET /api/0/projects/{org}/{project}/rules/"
NO_RETRY = RetryPolicy(attempts=1)
"""A 429 would fail the read at once instead of hiding behind a retry."""


def test_a_burst_over_several_fixed_windows_meets_no_429():
    with running_emulator(rate_limit={"enabled": True, "limit": LIMIT, "window": 1,
                                      "concurrency": 3}) as emu:
        emu.seed_rules(issue_rules=PROJECTS, projects=PROJECTS)

        async def burst() -> tuple[list[int], Gateway]:
            client = SentryClient(base_url=emu.url, token=emu.token, timeout=10.0)
            gateway = Gateway(client, GatewaySettings(retry=NO_RETRY))
            try:
                async with asyncio.TaskGroup() as group:
                    sent = [group.create_task(gateway.request(ApiRequest(
                        "GET", f"projects/{emu.organization}/seed-{n:03d}/rules/")))
                        for n in range(PROJECTS)]
                return [task.result().status for task in sent], gateway
            finally:
                await gateway.aclose()

        statuses, gateway = asyncio.run(burst())
        counters = emu.counters()
    assert statuses == [200] * PROJECTS
    assert counters["rate_limited"] == 0
    assert counters["routes"][RULES] == {"200": PROJECTS}  # each sent once: nothing resent
    # more than one window's budget went out without a 429: the client waited for resets
    assert gateway.limiter.waited > 0
    budget = gateway.limiter.budgets["GET projects/{org}/{project}/rules/"]
    assert budget.limit == LIMIT and budget.concurrent_limit == 3 and budget.window == 1


def test_a_plan_through_fixed_windows_meets_no_429(tmp_path, monkeypatch):
    (tmp_path / "dexter.yaml").write_text(
        "version: 1\norganization: acme\ninclude: []\nprune: {issue_alerts: true}\n")
    with running_emulator(rate_limit={"enabled": True, "limit": LIMIT, "window": 1,
                                      "concurrency": 3}) as emu:
        emu.seed_rules(issue_rules=PROJECTS, projects=PROJECTS)
        monkeypatch.setenv("SENTRY_URL", emu.url)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", emu.token)
        monkeypatch.delenv("SENTRY_ORG", raising=False)
        result = CliRunner().invoke(cli, ["-v", "plan", str(tmp_path), "--format", "json"],
                                    catch_exceptions=False)
        counters = emu.counters()
    assert result.exit_code == 0, result.stderr
    assert counters["rate_limited"] == 0
    assert counters["routes"][RULES] == {"200": PROJECTS}
    [summary] = [line for line in result.stderr.splitlines()
                 if line.startswith("sentry requests:")]
    assert "retries: 0, 429s: 0" in summary


class CostlyRepr:
    """A result that counts how often it is formatted (a plan of thousands of changes takes
    a noticeable time to format)."""

    formatted = 0

    def __repr__(self) -> str:
        CostlyRepr.formatted += 1
        return "CostlyRepr()"


def test_a_verbs_result_is_returned_without_being_formatted():
    """`asyncio.run` formats its main task (result included) while it restores the SIGINT
    handler; the CLI's `run` hands the result back without that."""
    async def verb() -> CostlyRepr:
        return CostlyRepr()

    result = run(verb())
    assert isinstance(result, CostlyRepr) and CostlyRepr.formatted == 0
