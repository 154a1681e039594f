"""Fault tolerance against the emulator's fault injection over real HTTP: reads succeed
through 5xx answers and dropped connections; under total failure the breaker opens, calls
fail fast with a clear message, and a half-open probe closes it once the faults stop."""

from __future__ import annotations

import asyncio

import pytest

from dexter_sync.core.requests import ApiRequest
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.sentry.breaker import BreakerState
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import CircuitOpenError, SentryConnectionError, ServerError
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway, GatewaySettings
from dexter_sync.sentry.retrying import RetryPolicy

pytestmark = pytest.mark.slow

FAST_RETRY = RetryPolicy(attempts=8, initial=0.01, maximum=0.1, jitter=0.02)


def facade_for(emu, **settings) -> SentryFacade:
    settings.setdefault("retry", FAST_RETRY)
    client = SentryClient(base_url=emu.url, token=emu.token, timeout=5.0)
    return SentryFacade(Gateway(client, GatewaySettings(**settings)), emu.organization)


def test_reads_succeed_through_5xx_and_dropped_connections():
    with running_emulator(rate_limit={"enabled": True, "limit": 100_000, "window": 1}) as emu:
        emu.seed_rules(metric_rules=500, issue_rules=200, projects=40)
        emu.set_faults(error_rate=0.2, drop_rate=0.05, seed=7)

        async def main():
            facade = facade_for(emu)
            try:
                return await facade.read_state(["metric_alert", "issue_alert"]), facade
            finally:
                await facade.aclose()

        live, facade = asyncio.run(main())

    assert len(live.of_kind("metric_alert")) == 500 and len(live.of_kind("issue_alert")) == 200
    metrics = facade.gateway.metrics
    assert metrics.retries > 0 and sum(r.failures for r in metrics.routes.values()) > 0
    assert facade.gateway.breaker.state is BreakerState.CLOSED


def test_post_is_not_retried_after_a_server_error(emulator):
    emulator.set_faults(error_rate=1.0, route="/rules/")
    rule = {"name": "x", "actionMatch": "any", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}]}
    emulator.reset_counters()

    async def main():
        facade = facade_for(emulator)
        try:
            with pytest.raises(ServerError) as caught:
                await facade.send(ApiRequest("POST", f"projects/{emulator.organization}/backend/"
                                             "rules/", json=rule))
            with pytest.raises(ServerError):
                await facade.send(ApiRequest("GET", f"projects/{emulator.organization}/backend/"
                                             "rules/"))
            return caught.value, facade
        finally:
            await facade.aclose()

    error, facade = asyncio.run(main())
    routes = emulator.counters()["routes"]
    posts = sum(routes.get("POST /api/0/projects/{org}/{project}/rules/", {}).values())
    gets = sum(routes.get("GET /api/0/projects/{org}/{project}/rules/", {}).values())
    assert posts == 1 and gets == FAST_RETRY.attempts
    assert "POST /api/0/projects/acme/backend/rules/" in str(error)


def test_breaker_opens_fails_fast_and_a_probe_closes_it():
    with running_emulator(projects=["web"]) as emu:
        emu.set_faults(error_rate=1.0)
        emu.reset_counters()
        request = ApiRequest("GET", f"organizations/{emu.organization}/projects/")

        async def main():
            facade = facade_for(emu, breaker_threshold=4, breaker_cooldown=0.5)
            try:
                with pytest.raises(CircuitOpenError) as caught:
                    await facade.read_state(["metric_alert", "issue_alert"])
                opened = emu.counters()["total"]
                with pytest.raises(CircuitOpenError):
                    await facade.send(request)  # fails fast: nothing sent
                after_fast = emu.counters()["total"]
                emu.clear_faults()
                await asyncio.sleep(0.6)  # the cool-down
                response = await facade.send(request)  # the half-open probe
                return caught.value, opened, after_fast, response, facade
            finally:
                await facade.aclose()

        error, opened, after_fast, response, facade = asyncio.run(main())

    assert "circuit breaker open" in str(error) and "4 consecutive failures" in str(error)
    assert error.code == "circuit-open"
    assert opened <= 4 + 6  # the threshold, plus requests already in flight when it opened
    assert after_fast == opened  # failing fast sent nothing
    assert response.status == 200
    assert facade.gateway.breaker.state is BreakerState.CLOSED
    assert facade.gateway.breaker.transitions == {
        "closed->open": 1, "open->half-open": 1, "half-open->closed": 1}
    assert "circuit breaker: closed->open x1" in facade.metrics_summary()


def test_unreachable_sentry_is_a_clear_connection_error():
    async def main():
        client = SentryClient(base_url="http://127.0.0.1:9", token="t0ken-unreachable",
                              timeout=2.0)
        facade = SentryFacade(Gateway(client, GatewaySettings(retry=FAST_RETRY,
                                                              breaker_threshold=100)), "acme")
        try:
            await facade.read_directory()
        finally:
            await facade.aclose()

    with pytest.raises(SentryConnectionError, match=r"cannot connect to Sentry at "
                       r"http://127.0.0.1:9 \(connection refused\); check SENTRY_URL"):
        asyncio.run(main())
