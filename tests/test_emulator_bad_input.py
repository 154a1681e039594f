"""The emulator never answers 500 to bad input: junk bodies, junk path values and junk
query strings against every route and method (a table test plus a hypothesis property)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dexter_sync.emulator.routes import API_ROUTES
from dexter_sync.emulator.testing import running_emulator

VALUES = {"org": ["acme", "nope", "4505000000000000"],
          "project": ["backend", "seed-000", "zz", "-1"],
          "rule_id": ["170000", "12000", "x", "99999999999999999999"],
          "task_uuid": ["abc"], "query_id": ["900", "q"], "version": ["1.0", "%00", "latest"],
          "issue_id": ["6000000", "BACKEND-1", "x"], "event_id": ["latest", "00"],
          "key": ["level"], "integration_id": ["24000", "x"], "config_id": ["800", "x"]}
JUNK = [b"{", b"[]", b"null", b"\"str\"", b"123", json.dumps({"name": None}).encode(),
        json.dumps({"name": ["x"], "triggers": "x", "conditions": {}, "actions": [1],
                    "projects": [None], "version": {}, "environment": 5}).encode(),
        json.dumps({"name": "x" * 5000, "aggregate": 1, "timeWindow": "1e400",
                    "thresholdType": [], "frequency": "nan", "triggers": [{"label": None}],
                    "fields": [1], "stackRoot": 5, "externalIssue": 7,
                    "projectId": 1e30}).encode(),
        "ünïcode \x00".encode()]


@pytest.fixture(scope="module")
def client():
    with running_emulator(projects=["backend"], environments=["prod"]) as emu:
        emu.ensure_names(integrations=[("slack", "S"), ("jira", "J")])
        emu.seed_rules(metric_rules=1, issue_rules=1, saved_queries=1)  # ids 170000, 12000, 900
        client = emu.client(base_url=emu.url)
        client.post("/api/0/organizations/acme/releases/",
                    json={"version": "1.0", "projects": ["backend"]}).raise_for_status()
        key = client.get("/api/0/projects/acme/backend/keys/").json()[0]
        client.post(f"/api/{key['projectId']}/store/?sentry_key={key['public']}",
                    json={"message": "x"}).raise_for_status()  # issue 6000000
        yield client


def expand(template: str) -> list[str]:
    paths = [template]
    for name in re.findall(r"{(\w+)(?::\w+)?}", template):
        paths = [re.sub(r"{" + name + r"(?::\w+)?}", value, p, count=1)
                 for p in paths for value in VALUES.get(name, ["x"])]
    return paths


CASES = [(path, method) for template, methods, _ in API_ROUTES
         for path in expand(template) for method in methods]


@pytest.mark.parametrize("path, method", CASES)
def test_junk_never_gets_a_500(client, path, method):
    queries = ["", "?per_page=0&cursor=a:b:c", ("?cursor=1:-5:0&per_page=3&query=is:x%20firstSeen:zz"
               "&sort=nope&statsPeriod=1y&project=x&environment=&status=q&sortBy=-x")]
    for body in JUNK if method in ("POST", "PUT") else [b""]:
        for query in queries:
            response = client.request(method, "/api/0" + path + query, content=body,
                                      headers={"Content-Type": "application/json"})
            assert response.status_code < 500, (path, query, method, body[:60],
                                                response.text[:200])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                         lambda kids: st.lists(kids, max_size=4)
                         | st.dictionaries(st.sampled_from(
                             ["name", "triggers", "actions", "conditions", "filters", "label",
                              "alertThreshold", "type", "id", "timeWindow", "frequency",
                              "projects", "version", "fields", "environment", "query"]) | st.text(max_size=5),
                             kids, max_size=6), max_leaves=20),
       target=st.sampled_from(["/api/0/organizations/acme/alert-rules/",
                               "/api/0/projects/acme/backend/rules/",
                               "/api/0/organizations/acme/discover/saved/",
                               "/api/0/organizations/acme/releases/",
                               "/api/0/organizations/acme/code-mappings/"]))
def test_random_json_bodies_never_get_a_500(client, body, target):
    response = client.post(target, content=json.dumps(body),
                           headers={"Content-Type": "application/json"})
    assert response.status_code < 500, response.text[:300]
