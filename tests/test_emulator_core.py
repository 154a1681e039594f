"""Emulator plumbing over real HTTP: auth, unknown routes and methods, bad bodies,
pagination (both cursor families), rate-limit headers and 429s, counters."""

from __future__ import annotations

import re

import httpx
import pytest

from dexter_sync.emulator.testing import running_emulator

EMAIL_ACTION = {"type": "email", "targetType": "team", "targetIdentifier": "1000"}


def metric_body(name: str, threshold: float = 100) -> dict:
    return {"name": name, "aggregate": "count()", "timeWindow": 60, "query": "",
            "thresholdType": 0, "projects": ["backend"],
            "triggers": [{"label": "critical", "alertThreshold": threshold,
                          "actions": [EMAIL_ACTION]}]}


def parse_link(header: str) -> dict[str, dict[str, str]]:
    links = {}
    for part in header.split(", <"):
        url = part.strip().lstrip("<").split(">")[0]
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', part))
        links[attrs["rel"]] = {"url": url, **attrs}
    return links


def test_missing_and_invalid_tokens_get_sentrys_401_bodies(emulator):
    url = f"{emulator.api_url}/organizations/acme/projects/"
    missing = httpx.get(url)
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    invalid = httpx.get(url, headers={"Authorization": "Bearer wrong"})
    assert invalid.status_code == 401
    assert invalid.json() == {"detail": "Invalid token"}
    assert httpx.get(url, headers=emulator.headers).status_code == 200


def test_read_only_token_gets_403_on_writes():
    with running_emulator(projects=["backend"], read_only_tokens=["ro"]) as emu:
        headers = {"Authorization": "Bearer ro"}
        url = f"{emu.api_url}/organizations/acme/alert-rules/"
        assert httpx.get(url, headers=headers).status_code == 200
        refused = httpx.post(url, headers=headers, json=metric_body("x"))
        assert refused.status_code == 403
        assert refused.json() == {"detail": "You do not have permission to perform this action."}


def test_unknown_route_wrong_method_and_unknown_org_or_project(emulator):
    client = emulator.client()
    unknown = client.get("no-such-thing/")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "The requested resource does not exist"}
    assert "X-Sentry-Rate-Limit-Limit" in unknown.headers
    wrong = client.delete("organizations/acme/projects/")
    assert wrong.status_code == 405
    assert wrong.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert client.get("organizations/nope/projects/").status_code == 404
    assert client.get("projects/acme/nope/rules/").status_code == 404
    # a project is found by id as well as by slug
    backend = client.get("projects/acme/backend/").json()
    assert client.get(f"projects/acme/{backend['id']}/").json()["slug"] == "backend"


def test_bad_bodies_are_refused_with_4xx_not_500(emulator):
    client = emulator.client()
    url = "organizations/acme/alert-rules/"
    malformed = client.post(url, content=b"{nope", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and "JSON parse error" in malformed.json()["detail"]
    wrong_type = client.post(url, content=b"name=x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    not_object = client.post(url, json=[1, 2])
    assert not_object.status_code == 400
    huge = client.post(url, content=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413


def test_offset_pagination_walks_every_metric_rule_once(emulator):
    emulator.seed_rules(metric_rules=57, projects=2)
    client = emulator.client()
    seen, url, pages = [], "organizations/acme/alert-rules/?per_page=20", 0
    first = client.get(url)
    assert first.headers["X-Hits"] == "57"
    links = parse_link(first.headers["Link"])
    assert links["previous"]["cursor"] == "20:-1:1" and links["previous"]["results"] == "false"
    assert links["next"]["cursor"] == "20:1:0" and links["next"]["results"] == "true"
    response = first
    while True:
        pages += 1
        seen += [rule["id"] for rule in response.json()]
        links = parse_link(response.headers["Link"])
        if links["next"]["results"] != "true":
            break
        response = client.get(links["next"]["url"])
    assert pages == 3
    assert len(seen) == len(set(seen)) == 57
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)


def test_keyed_pagination_of_issue_rules(emulator):
    emulator.seed_rules(issue_rules=23, projects=1)
    client = emulator.client()
    response = client.get("projects/acme/seed-000/rules/?per_page=10")
    first_link = parse_link(response.headers["Link"])
    assert first_link["previous"]["cursor"] == "0:0:1"
    seen = []
    while True:
        seen += [r["id"] for r in response.json()]
        links = parse_link(response.headers["Link"])
        if links["next"]["results"] != "true":
            break
        response = client.get(links["next"]["url"])
    assert len(seen) == len(set(seen)) == 23


@pytest.mark.parametrize("query, detail", [
    ("per_page=101", "Invalid per_page value. Cannot exceed 100."),
    ("per_page=abc", "Invalid per_page parameter."),
    ("cursor=garbage", "Invalid cursor parameter."),
    ("cursor=1:2", "Invalid cursor parameter."),
])
def test_invalid_paging_parameters_answer_400(emulator, query, detail):
    response = emulator.client().get(f"organizations/acme/alert-rules/?{query}")
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_rate_limit_headers_and_429_exactly_as_sentry():
    with running_emulator(projects=["backend"],
                          rate_limit={"enabled": True, "limit": 3, "window": 60}) as emu:
        client = emu.client()
        url = "organizations/acme/projects/"
        answers = [client.get(url) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-Sentry-Rate-Limit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
        refused = answers[3]
        assert refused.json() == {"detail": "You are attempting to use this endpoint too "
                                            "frequently. Limit is 3 requests in 60 seconds"}
        assert "Retry-After" not in refused.headers
        assert int(refused.headers["X-Sentry-Rate-Limit-Reset"]) % 60 == 0
        # another endpoint has its own window
        assert client.get("organizations/acme/teams/").status_code == 200
        assert emu.counters()["rate_limited"] == 1


def test_counters_by_route_template_and_reset(emulator):
    client = emulator.client()
    client.get("organizations/acme/projects/")
    client.get("organizations/acme/projects/")
    client.get("organizations/acme/teams/")
    counts = emulator.counters()["routes"]
    assert counts["GET /api/0/organizations/{org}/projects/"] == {"200": 2}
    emulator.reset_counters()
    assert emulator.counters()["total"] == 0


def test_rate_limit_override_for_one_endpoint():
    key = "GET /api/0/organizations/{org}/teams/"
    with running_emulator(projects=["backend"], rate_limit={
            "enabled": True, "limit": 0, "overrides": {key: {"limit": 1, "window": 30}}}) as emu:
        client = emu.client()
        assert [client.get("organizations/acme/teams/").status_code for _ in range(2)] == \
            [200, 429]
        assert all(client.get("organizations/acme/projects/").status_code == 200
                   for _ in range(3))
