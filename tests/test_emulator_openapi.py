"""Emulator responses validated against Sentry's published OpenAPI response schemas
(jsonschema), for every served endpoint the documents describe (legacy alert endpoints
from the 2026-05-08 copy, the rest from the current one)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest

from dexter_sync.emulator.testing import running_emulator

from .conftest import STANDARD_EXTRAS, STANDARD_NAMES

# The response schemas this table needs, extracted from Sentry's published documents
# (shared/sentry-api/) by tests/data/openapi_subset.py, so the test runs in any clone.
SUBSET = Path(__file__).resolve().parent / "data" / "sentry-openapi-subset.json"
CURRENT, LEGACY = "openapi-derefed.json", "openapi-derefed-2026-05-08-with-alert-rules.json"
ORG = "/api/0/organizations/{organization_id_or_slug}"
PROJ = "/api/0/projects/{organization_id_or_slug}/{project_id_or_slug}"


@lru_cache(maxsize=1)
def subset() -> dict:
    return json.loads(SUBSET.read_text())


def document(name: str) -> dict:
    return subset()[name]


def to_jsonschema(schema):
    """OpenAPI 3.0 schema -> JSON Schema (draft 4): `nullable` becomes a null alternative."""
    if isinstance(schema, list):
        return [to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: to_jsonschema(v) for k, v in schema.items() if k != "nullable"}
    if schema.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


# Where the published schema is stricter than Sentry's own answers: (path, property chain).
# Sentry serializes `owners` and `inbox` as null for issues without owners / inbox entry.
NULLABLE_IN_PRACTICE = {"/api/0/organizations/{organization_id_or_slug}/issues/":
                        [("items", "owners"), ("items", "inbox")]}


def response_schema(doc: str, path: str, method: str, status: str) -> dict:
    operation = document(doc)["paths"][path][method]
    content = operation["responses"][status]["content"]["application/json"]
    schema = json.loads(json.dumps(content["schema"]))
    for chain in NULLABLE_IN_PRACTICE.get(path, []) if method == "get" else []:
        node = schema
        for key in chain:
            node = node[key] if key == "items" else node["properties"][key]
        node["nullable"] = True
    return to_jsonschema(schema)


@pytest.fixture(scope="module")
def world():
    """One populated emulator for the whole table (read-only checks plus a few writes)."""
    with running_emulator(**STANDARD_NAMES) as emu:
        emu.ensure_names(**STANDARD_EXTRAS)
        emu.ensure_names(integrations=[("jira", "Acme Jira")])
        client = emu.client()
        metric = client.post("organizations/acme/alert-rules/", json={
            "name": "errors", "aggregate": "count()", "timeWindow": 60, "query": "",
            "thresholdType": 0, "projects": ["backend"], "environment": "production",
            "triggers": [{"label": "critical", "alertThreshold": 100, "actions": [
                {"type": "slack", "targetType": "specific", "targetIdentifier": "#alerts",
                 "integrationId": 24000, "inputChannelId": "C00000001"}]}]}).json()
        issue_rule = client.post("projects/acme/backend/rules/", json={
            "name": "new issues", "actionMatch": "all", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}]}
        ).json()
        query = client.post("organizations/acme/discover/saved/", json={
            "name": "errors by title", "version": 2, "fields": ["title", "count()"],
            "projects": [], "range": "24h"}).json()
        client.post("organizations/acme/releases/", json={"version": "app@1.0.0",
                                                          "projects": ["backend"]})
        client.post("organizations/acme/releases/app%401.0.0/deploys/",
                    json={"environment": "production"})
        key = client.get("projects/acme/backend/keys/").json()[0]
        client.post(f"{emu.url}/api/{key['projectId']}/store/?sentry_key={key['public']}",
                    json={"message": "boom", "level": "error", "environment": "production",
                          "tags": {"browser": "firefox"}})
        issue = client.get("organizations/acme/issues/").json()[0]
        event = client.get(f"organizations/acme/issues/{issue['id']}/events/").json()[0]
        jira = client.get("organizations/acme/integrations/?providerKey=jira").json()[0]["id"]
        yield {"emu": emu, "client": client, "metric": metric, "issue_rule": issue_rule,
               "jira": jira,
               "query": query, "issue": issue, "event": event}


# (document, OpenAPI path, method, status, emulator path below /api/0/ with {placeholders})
TABLE = [
    (LEGACY, f"{ORG}/alert-rules/", "get", "200", "organizations/acme/alert-rules/"),
    (LEGACY, f"{ORG}/alert-rules/{{alert_rule_id}}/", "get", "200",
     "organizations/acme/alert-rules/{metric}/"),
    (LEGACY, f"{PROJ}/rules/", "get", "200", "projects/acme/backend/rules/"),
    (LEGACY, f"{PROJ}/rules/{{rule_id}}/", "get", "200", "projects/acme/backend/rules/{issue_rule}/"),
    (CURRENT, f"{ORG}/discover/saved/", "get", "200", "organizations/acme/discover/saved/"),
    (CURRENT, f"{ORG}/discover/saved/{{query_id}}/", "get", "200",
     "organizations/acme/discover/saved/{query}/"),
    (CURRENT, f"{ORG}/environments/", "get", "200", "organizations/acme/environments/"),
    (CURRENT, f"{ORG}/integrations/", "get", "200", "organizations/acme/integrations/"),
    (CURRENT, f"{ORG}/integrations/{{integration_id}}/", "get", "200",
     "organizations/acme/integrations/24000/"),
    (CURRENT, f"{ORG}/issues/", "get", "200", "organizations/acme/issues/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/", "get", "200", "organizations/acme/issues/{issue}/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/events/", "get", "200",
     "organizations/acme/issues/{issue}/events/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/events/{{event_id}}/", "get", "200",
     "organizations/acme/issues/{issue}/events/latest/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/external-issues/", "get", "200",
     "organizations/acme/issues/{issue}/external-issues/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/tags/{{key}}/", "get", "200",
     "organizations/acme/issues/{issue}/tags/browser/"),
    (CURRENT, f"{ORG}/members/", "get", "200", "organizations/acme/members/"),
    (CURRENT, f"{ORG}/projects/", "get", "200", "organizations/acme/projects/"),
    (CURRENT, f"{ORG}/releases/", "get", "200", "organizations/acme/releases/"),
    (CURRENT, f"{ORG}/releases/{{version}}/", "get", "200",
     "organizations/acme/releases/app%401.0.0/"),
    (CURRENT, f"{ORG}/releases/{{version}}/deploys/", "get", "200",
     "organizations/acme/releases/app%401.0.0/deploys/"),
    (CURRENT, f"{ORG}/repos/", "get", "200", "organizations/acme/repos/"),
    (CURRENT, f"{ORG}/teams/", "get", "200", "organizations/acme/teams/"),
    (CURRENT, f"{PROJ}/", "get", "200", "projects/acme/backend/"),
    (CURRENT, f"{PROJ}/environments/", "get", "200", "projects/acme/backend/environments/"),
    (CURRENT, f"{PROJ}/events/", "get", "200", "projects/acme/backend/events/"),
    (CURRENT, f"{PROJ}/events/{{event_id}}/", "get", "200",
     "projects/acme/backend/events/{event}/"),
    (CURRENT, f"{PROJ}/keys/", "get", "200", "projects/acme/backend/keys/"),
    (CURRENT, f"{PROJ}/teams/", "get", "200", "projects/acme/backend/teams/"),
    (CURRENT, "/api/0/teams/{organization_id_or_slug}/{team_id_or_slug}/projects/", "get",
     "200", "teams/acme/platform/projects/"),
    (CURRENT, "/api/0/organizations/", "get", "200", "organizations/"),
    (CURRENT, f"{ORG}/", "get", "200", "organizations/acme/"),
    (CURRENT, f"{PROJ}/releases/", "get", "200", "projects/acme/backend/releases/"),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/integrations/{{integration_id}}/", "get", "200",
     "organizations/acme/issues/{issue}/integrations/{jira}/?action=link"),
]


def _fill(path: str, world: dict) -> str:
    return path.format(metric=world["metric"]["id"], issue_rule=world["issue_rule"]["id"],
                       query=world["query"]["id"], issue=world["issue"]["id"],
                       event=world["event"]["eventID"], jira=world["jira"])


@pytest.mark.parametrize("doc, api_path, method, status, path", TABLE,
                         ids=[f"{m.upper()} {p}" for _, p, m, _, _ in [
                             (d, a, m, s, p) for d, a, m, s, p in TABLE]])
def test_get_responses_match_sentrys_schema(world, doc, api_path, method, status, path):
    response = world["client"].request(method.upper(), _fill(path, world))
    assert response.status_code == int(status), response.text
    jsonschema.Draft4Validator(response_schema(doc, api_path, method, status)).validate(
        response.json())


WRITES = [
    (LEGACY, f"{ORG}/alert-rules/", "post", "201", "organizations/acme/alert-rules/",
     {"name": "w", "aggregate": "count()", "timeWindow": 5, "query": "", "thresholdType": 1,
      "projects": ["frontend"], "triggers": [
          {"label": "critical", "alertThreshold": 1,
           "actions": [{"type": "email", "targetType": "team", "targetIdentifier": "1000"}]}]}),
    (LEGACY, f"{PROJ}/rules/", "post", "201", "projects/acme/frontend/rules/",
     {"name": "w", "actionMatch": "any", "frequency": 60, "conditions": [
         {"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"}],
      "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
                   "fallthroughType": "ActiveMembers"}]}),
    (CURRENT, f"{ORG}/discover/saved/", "post", "201", "organizations/acme/discover/saved/",
     {"name": "w", "version": 2, "fields": ["title"], "projects": [], "range": "14d"}),
    (CURRENT, f"{ORG}/releases/", "post", "201", "organizations/acme/releases/",
     {"version": "w@2.0.0", "projects": ["backend"]}),
    (CURRENT, f"{ORG}/releases/{{version}}/deploys/", "post", "201",
     f"organizations/acme/releases/{quote('app@1.0.0', safe='')}/deploys/",
     {"environment": "staging", "name": "w"}),
]


UPDATES = [
    (LEGACY, f"{ORG}/alert-rules/{{alert_rule_id}}/", "put", "200",
     "organizations/acme/alert-rules/{metric}/", WRITES[0][5]),
    (LEGACY, f"{PROJ}/rules/{{rule_id}}/", "put", "200", "projects/acme/backend/rules/{issue_rule}/",
     {**WRITES[1][5], "name": "renamed"}),
    (CURRENT, f"{ORG}/discover/saved/{{query_id}}/", "put", "200",
     "organizations/acme/discover/saved/{query}/", {**WRITES[2][5], "name": "renamed"}),
    (CURRENT, f"{ORG}/releases/{{version}}/", "put", "200",
     "organizations/acme/releases/app%401.0.0/", {"url": "https://example.com/r"}),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/integrations/{{integration_id}}/", "put", "201",
     "organizations/acme/issues/{issue}/integrations/{jira}/", {"externalIssue": "OPS-1"}),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/integrations/{{integration_id}}/", "post", "201",
     "organizations/acme/issues/{issue}/integrations/{jira}/", {"title": "Fix"}),
    (CURRENT, f"{ORG}/issues/{{issue_id}}/", "put", "200", "organizations/acme/issues/{issue}/",
     {"status": "resolved"}),
]


@pytest.mark.parametrize("doc, api_path, method, status, path, body", WRITES + UPDATES,
                         ids=[f"{w[2].upper()} {w[1]}" for w in WRITES + UPDATES])
def test_write_responses_match_sentrys_schema(world, doc, api_path, method, status, path, body):
    path = _fill(path, world)
    response = world["client"].request(method.upper(), path, json=body)
    assert 200 <= response.status_code < 300, response.text
    jsonschema.Draft4Validator(response_schema(doc, api_path, method, status)).validate(
        response.json())
