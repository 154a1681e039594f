"""Fault injection and the admin endpoints: 5xx shares, dropped connections, lost responses
(the write is committed), route filters, deterministic dice, latency, seeding, reset."""

from __future__ import annotations

import httpx
import pytest

from dexter_sync.emulator import EmulatorConfig, create_app
from dexter_sync.emulator.testing import asgi_client

RULE = {"name": "r", "actionMatch": "all", "frequency": 30,
        "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
        "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}]}
RULES = "projects/acme/backend/rules/"


def test_error_rate_answers_the_configured_statuses(emulator):
    emulator.set_faults(error_rate=1.0, error_statuses=[503])
    response = emulator.client().get("organizations/acme/projects/")
    assert response.status_code == 503
    assert "X-Sentry-Rate-Limit-Remaining" in response.headers
    emulator.clear_faults()
    assert emulator.client().get("organizations/acme/projects/").status_code == 200


def test_same_seed_same_dice(emulator):
    def statuses() -> list[int]:
        emulator.set_faults(error_rate=0.5, seed=42)
        client = emulator.client()
        return [client.get("organizations/acme/teams/").status_code for _ in range(30)]

    first = statuses()
    emulator.set_faults(seed=None)
    assert statuses() == first
    assert {200} < set(first) <= {200, 500, 502, 503}


def test_dropped_connection_is_a_transport_error(emulator):
    emulator.set_faults(drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        emulator.client().get("organizations/acme/projects/")
    emulator.clear_faults()
    assert emulator.client().get("organizations/acme/projects/").status_code == 200


@pytest.mark.parametrize("mode", ["502", "drop"])
def test_lost_response_commits_the_write(emulator, mode):
    emulator.set_faults(lost_response_rate=1.0, lost_response_mode=mode)
    client = emulator.client()
    assert client.get(RULES).status_code == 200  # reads are never lost
    if mode == "502":
        assert client.post(RULES, json=RULE).status_code == 502
    else:
        with pytest.raises(httpx.TransportError):
            client.post(RULES, json=RULE)
    emulator.clear_faults()
    assert [r["name"] for r in client.get(RULES).json()] == ["r"]


def test_route_filter_limits_faults_to_matching_paths(emulator):
    emulator.set_faults(error_rate=1.0, route="/rules/")
    client = emulator.client()
    assert client.get(RULES).status_code >= 500
    assert client.get("organizations/acme/projects/").status_code == 200


def test_method_filter_fails_writes_while_reads_succeed(emulator):
    emulator.set_faults(error_rate=1.0, methods="post, PUT,DELETE")
    client = emulator.client()
    assert client.post(RULES, json=RULE).status_code >= 500
    assert client.get(RULES).status_code == 200
    emulator.clear_faults()
    assert client.post(RULES, json=RULE).status_code == 200  # Sentry answers 200 here
    assert [r["name"] for r in client.get(RULES).json()] == ["r"]


@pytest.mark.parametrize("settings, floor", [
    ({"latency_ms": 150}, 0.15),
    ({"latency_ms": 50, "jitter_ms": 20}, 0.05),
    ({"slow_rate": 1.0, "slow_ms": 120}, 0.12),
])
def test_latency_and_slow_responses_are_added(emulator, settings, floor):
    emulator.set_faults(**settings)
    response = emulator.client().get("organizations/acme/projects/")
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= floor  # a floor the injected sleep guarantees


def test_concurrency_limit_answers_429_with_sentrys_text(emulator):
    emulator.set_rate_limit(enabled=True, concurrency=1)
    emulator.set_faults(latency_ms=300)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(httpx.get, f"{emulator.api_url}/organizations/acme/projects/",
                               headers=emulator.headers) for _ in range(4)]
        answers = [f.result() for f in futures]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and any(a.status_code == 200 for a in answers)
    assert refused[0].json() == {"detail": "You are attempting to go above the allowed "
                                           "concurrency for this endpoint. Concurrency limit is 1"}
    assert refused[0].headers["X-Sentry-Rate-Limit-ConcurrentLimit"] == "1"


def test_admin_settings_refuse_unknown_keys_and_bad_types(emulator):
    assert emulator.admin.put("faults/", json={"nope": 1}).status_code == 400
    assert emulator.admin.put("quirks/", json={"node_names": "yes"}).status_code == 400
    assert emulator.admin.get("quirks/").json()["node_names"] is True
    assert httpx.get(f"{emulator.url}/__emulator__/faults/").status_code == 401


def test_seed_is_deterministic_and_reset_wipes(emulator):
    emulator.seed_rules(metric_rules=5, issue_rules=4, projects=2, saved_queries=3)
    client = emulator.client()
    names = sorted(r["name"] for r in client.get("organizations/acme/alert-rules/").json())
    assert names == [f"seed metric rule {i:05d}" for i in range(5)]
    assert len(client.get("projects/acme/seed-001/rules/").json()) == 2
    assert len(client.get("organizations/acme/discover/saved/").json()) == 3
    emulator.reset()
    assert client.get("organizations/acme/alert-rules/").json() == []
    assert client.get("projects/acme/seed-001/").status_code == 404


@pytest.mark.anyio
async def test_drop_through_the_asgi_transport_is_a_transport_error():
    app = create_app(EmulatorConfig(token="t", projects=["backend"]))
    app.state.config.faults.drop_rate = 1.0
    async with asgi_client(app, token="t") as client:
        with pytest.raises(httpx.TransportError):
            await client.get("/api/0/organizations/acme/projects/")
    app.state.store.close()
