"""Discover queries, releases and deploys, repositories, code mappings, external-issue
links and the audit log on the emulator (REFERENCE.md §4–§9, audit log)."""

from __future__ import annotations

import pytest

SAVED = "organizations/acme/discover/saved/"
RELEASES = "organizations/acme/releases/"


def test_discover_version_rules_and_stored_keys(emulator):
    client = emulator.client()
    v1 = client.post(SAVED, json={"name": "old", "fields": ["title"], "query": "is:unresolved"})
    assert v1.status_code == 400
    assert v1.json() == {"nonFieldErrors": [
        "You cannot use the query attribute(s) with the selected version"]}
    empty = client.post(SAVED, json={"name": "x", "version": 2, "fields": []})
    assert empty.json() == {"nonFieldErrors": ["You must include at least one field."]}
    backend = client.get("projects/acme/backend/").json()
    created = client.post(SAVED, json={"name": "Errors", "version": 2, "fields": ["title"],
                                       "projects": [int(backend["id"])], "range": "24h",
                                       "orderby": None, "query": ""})
    assert created.status_code == 201
    query = created.json()
    assert query["version"] == 2 and query["projects"] == [int(backend["id"])]
    assert "orderby" not in query and query["query"] == "" and query["range"] == "24h"
    default_v1 = client.post(SAVED, json={"name": "Legacy", "fields": ["title"]}).json()
    assert default_v1["version"] == 1
    everything = client.post(SAVED, json={"name": "All", "version": 2, "fields": ["title"],
                                          "projects": [-1]}).json()
    assert everything["projects"] == [-1]
    names = [q["name"] for q in client.get(SAVED).json()]
    assert names == ["All", "Errors", "Legacy"]  # case-insensitive name order
    assert [q["name"] for q in client.get(SAVED + "?query=name:err").json()] == ["Errors"]
    replaced = client.put(f"{SAVED}{query['id']}/", json={"name": "Errors 2", "version": 2,
                                                         "fields": ["count()"]}).json()
    assert replaced["fields"] == ["count()"] and "range" not in replaced
    assert client.delete(f"{SAVED}{query['id']}/").status_code == 204
    assert client.get(f"{SAVED}{query['id']}/").status_code == 404


def test_release_post_is_get_or_create_201_then_208(emulator):
    client = emulator.client()
    first = client.post(RELEASES, json={"version": "api@1.0.0+build", "projects": ["backend"],
                                        "ref": "abc"})
    assert first.status_code == 201
    release = first.json()
    assert isinstance(release["id"], int) and release["ref"] == "abc"
    assert release["versionInfo"]["version"]["major"] == 1
    again = client.post(RELEASES, json={"version": "api@1.0.0+build", "projects": ["backend"],
                                        "ref": "ignored"})
    assert again.status_code == 208 and again.json()["ref"] == "abc"
    more = client.post(RELEASES, json={"version": "api@1.0.0+build",
                                       "projects": ["frontend"]})
    assert more.status_code == 201
    assert [p["slug"] for p in more.json()["projects"]] == ["backend", "frontend"]
    bad = client.post(RELEASES, json={"version": "x", "projects": ["nope"]})
    assert bad.json() == {"projects": ["Invalid project ids or slugs"]}
    assert client.post(RELEASES, json={"version": "a/b", "projects": ["backend"]}
                       ).status_code == 400
    path = f"{RELEASES}api%401.0.0%2Bbuild/"
    finalized = client.put(path, json={"dateReleased": "2026-01-01T00:00:00Z"}).json()
    assert finalized["dateReleased"] == "2026-01-01T00:00:00Z"
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404


def test_deploy_list_shows_the_latest_per_environment(emulator):
    client = emulator.client()
    client.post(RELEASES, json={"version": "1.0", "projects": ["backend", "frontend"]})
    deploys = f"{RELEASES}1.0/deploys/"
    first = client.post(deploys, json={"environment": "production", "name": "one"}).json()
    second = client.post(deploys, json={"environment": "production", "name": "two"}).json()
    client.post(deploys, json={"environment": "canary", "projects": ["backend"]})
    listed = client.get(deploys).json()
    names = sorted((d["environment"], d["name"]) for d in listed)
    assert names == [("canary", None), ("production", "two")]
    assert first["id"] != second["id"]
    release = client.get(f"{RELEASES}1.0/").json()
    assert release["deployCount"] == 3
    assert "canary" in [e["name"] for e in client.get("organizations/acme/environments/").json()]
    refused = client.post(deploys, json={"environment": "x", "projects": ["nope"]})
    assert refused.status_code == 400
    assert client.post(f"{RELEASES}9.9/deploys/", json={"environment": "x"}).status_code == 404


def test_code_mappings_validate_and_are_unique_per_project_and_stack_root(emulator):
    client = emulator.client()
    backend = client.get("projects/acme/backend/").json()["id"]
    repo = client.get("organizations/acme/repos/").json()[0]
    url = "organizations/acme/code-mappings/"
    body = {"integrationId": repo["integrationId"], "projectId": int(backend),
            "repositoryId": int(repo["id"]), "stackRoot": "app/", "sourceRoot": "src/",
            "defaultBranch": "main"}
    created = client.post(url, json=body)
    assert created.status_code == 201
    mapping = created.json()
    assert mapping["projectId"] == backend and mapping["repoName"] == "acme/backend"
    duplicate = client.post(url, json=body)
    assert duplicate.json() == {"nonFieldErrors": [
        "Code path config already exists with this project and stack trace root"]}
    assert client.post(url, json={**body, "stackRoot": "a b"}).json() == {
        "stackRoot": ["Path may not contain spaces or quotations"]}
    assert client.post(url, json={k: v for k, v in body.items() if k != "integrationId"}
                       ).json() == "Missing param: integrationId"
    assert client.post(url, json={**body, "projectId": "x"}).json() == \
        "Invalid projectId param. Expected an integer."
    assert client.post(url, json={**body, "stackRoot": "lib/", "defaultBranch": "/bad"}
                       ).status_code == 400
    moved = client.put(f"{url}{mapping['id']}/", json={**body, "sourceRoot": "lib/"}).json()
    assert moved["sourceRoot"] == "lib/"
    assert [m["id"] for m in client.get(url).json()] == [mapping["id"]]
    assert client.delete(f"{url}{mapping['id']}/").status_code == 204


def _issue(emulator) -> dict:
    client = emulator.client()
    key = client.get("projects/acme/backend/keys/").json()[0]
    client.post(f"{emulator.url}/api/{key['projectId']}/store/",
                headers={"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={key['public']}"},
                json={"message": "boom"})
    return client.get("organizations/acme/issues/").json()[0]


def test_external_issue_links_link_create_and_unlink(emulator):
    emulator.ensure_names(integrations=[("jira", "Acme Jira")])
    client = emulator.client()
    issue = _issue(emulator)
    jira = next(i for i in client.get("organizations/acme/integrations/?providerKey=jira").json())
    url = f"organizations/acme/issues/{issue['id']}/integrations/{jira['id']}/"
    linked = client.put(url, json={"externalIssue": "PROJ-7"})
    assert linked.status_code == 201
    link = linked.json()
    assert link["key"] == "PROJ-7" and isinstance(link["id"], int)
    assert link["integrationId"] == int(jira["id"])
    assert client.put(url, json={"externalIssue": "PROJ-7"}).json() == {
        "non_field_errors": ["That issue is already linked"]}
    created = client.post(url, json={"title": "Fix it", "project": "OPS"}).json()
    assert created["key"].startswith("OPS-")
    detail = client.get(f"organizations/acme/issues/{issue['id']}/",
                        params={"expand": "integrationIssues"}).json()
    assert sorted(x["key"] for x in detail["integrationIssues"]) == sorted(["PROJ-7",
                                                                            created["key"]])
    assert client.delete(f"{url}?externalIssue={link['id']}").status_code == 204
    detail = client.get(f"organizations/acme/issues/{issue['id']}/",
                        params={"expand": "integrationIssues"}).json()
    assert [x["key"] for x in detail["integrationIssues"]] == [created["key"]]
    assert client.get(f"organizations/acme/issues/{issue['id']}/integrations/24000/"
                      ).status_code == 404  # Slack has no issue linking


def test_issue_links_are_read_in_sentrys_shapes(emulator):
    """REFERENCE §9.2: the detail has `integrationIssues` only when expanded, in
    ExternalIssueSerializer's shape (no integration id); `integrations/` lists the tracker
    integrations with their `externalIssues`; `external-issues/` is sentry-app issues only."""
    emulator.ensure_names(integrations=[("jira", "Ops Jira"), ("slack", "Ops Slack")])
    client = emulator.client()
    issue = _issue(emulator)
    jira = client.get("organizations/acme/integrations/?providerKey=jira").json()
    jira = next(i for i in jira if i["name"] == "Ops Jira")
    base = f"organizations/acme/issues/{issue['id']}/"
    link = client.put(f"{base}integrations/{jira['id']}/", json={"externalIssue": "OPS-481"})
    assert link.status_code == 201

    assert "integrationIssues" not in client.get(base).json()
    expanded = client.get(base, params={"expand": "integrationIssues"}).json()
    assert expanded["integrationIssues"] == [{
        "id": str(link.json()["id"]), "key": "OPS-481", "title": "OPS-481",
        "description": None, "displayName": "OPS-481", "integrationKey": "jira",
        "integrationName": "Ops Jira"}]

    listing = client.get(f"{base}integrations/")
    assert listing.status_code == 200 and 'rel="next"' in listing.headers["Link"]
    trackers = {i["name"]: i for i in listing.json()}
    assert "Ops Slack" not in trackers  # no issue feature
    assert trackers["Ops Jira"]["id"] == jira["id"]
    assert trackers["Ops Jira"]["provider"]["key"] == "jira"
    assert [(x["id"], x["key"]) for x in trackers["Ops Jira"]["externalIssues"]] == [
        (str(link.json()["id"]), "OPS-481")]
    assert set(trackers["Ops Jira"]["externalIssues"][0]) == {
        "id", "key", "url", "title", "description", "displayName"}

    assert client.get(f"{base}external-issues/").json() == []  # integration links are not here


def test_audit_log_records_api_and_out_of_band_changes(emulator):
    client = emulator.client()
    rule = client.post("organizations/acme/alert-rules/", json={
        "name": "r", "aggregate": "count()", "timeWindow": 5, "query": "", "thresholdType": 0,
        "triggers": [{"label": "critical", "alertThreshold": 1, "actions": [
            {"type": "email", "targetType": "team", "targetIdentifier": "1000"}]}]}).json()
    emulator.oob_change("metric_rule", "update", id=int(rule["id"]), fields={"name": "ui edit"})
    assert client.get(f"organizations/acme/alert-rules/{rule['id']}/").json()["name"] == \
        "ui edit"
    log = client.get("organizations/acme/audit-logs/")
    assert log.status_code == 200 and set(log.json()) == {"rows", "options"}
    rows = log.json()["rows"]
    assert rows[0]["event"] == "metric_rule.edit" and rows[0]["actor"]["name"] == "ui-user"
    assert rows[1]["event"] == "alertrule.add" and rows[1]["targetObject"] == int(rule["id"])
    only = client.get("organizations/acme/audit-logs/?event=alertrule.add").json()["rows"]
    assert [r["event"] for r in only] == ["alertrule.add"]
    emulator.oob_change("metric_rule", "delete", id=int(rule["id"]))
    assert client.get(f"organizations/acme/alert-rules/{rule['id']}/").status_code == 404


@pytest.mark.parametrize("path, key, expected", [
    ("organizations/acme/teams/", "slug", ["platform"]),
    ("organizations/acme/members/", "email", ["alice@example.com"]),
    ("organizations/acme/integrations/?providerKey=slack", "name", ["Acme Slack"]),
    ("organizations/acme/repos/", "name", ["acme/backend"]),
    ("organizations/acme/projects/?query=slug:frontend", "slug", ["frontend"]),
])
def test_name_resolution_lists(emulator, path, key, expected):
    assert [item[key] for item in emulator.client().get(path).json()] == expected


def test_slack_channel_listing_like_sentrys_channel_picker(emulator):
    emulator.ensure_names(slack_channels=[("Acme Slack", "#deploys"), ("Acme Slack", "#ops")])
    client = emulator.client()
    url = "organizations/acme/integrations/24000/channels/"
    first = client.get(url + "?limit=2").json()
    assert first["results"][0] == {"id": "C00000001", "name": "alerts", "display": "#alerts",
                                   "type": "public"}
    assert len(first["results"]) == 2 and first["nextCursor"] == "2"
    rest = client.get(f"{url}?limit=2&cursor={first['nextCursor']}").json()
    assert [c["name"] for c in rest["results"]] == ["ops"] and rest["nextCursor"] is None
    github = client.get("organizations/acme/integrations/?providerKey=github").json()[0]
    other = client.get(f"organizations/acme/integrations/{github['id']}/channels/").json()
    assert other["results"] == [] and "not supported" in other["warning"]
    assert client.get("organizations/acme/integrations/1/channels/").status_code == 404


def test_repositories_create_update_delete(emulator):
    client = emulator.client()
    url = "organizations/acme/repos/"
    github = client.get("organizations/acme/integrations/?providerKey=github").json()[0]
    body = {"provider": "integrations:github", "installation": github["id"],
            "identifier": "acme/web"}
    created = client.post(url, json=body)
    assert created.status_code == 201
    repo = created.json()
    assert repo["name"] == "acme/web" and repo["integrationId"] == github["id"]
    assert repo["provider"] == {"id": "integrations:github", "name": "GitHub"}
    assert client.post(url, json=body).status_code == 400  # one per provider + name
    assert client.post(url, json={**body, "provider": "integrations:nope"}).json() == {
        "error_type": "validation"}
    moved = client.put(f"{url}{repo['id']}/", json={"url": "https://example.com/web"}).json()
    assert moved["url"] == "https://example.com/web"
    assert client.delete(f"{url}{repo['id']}/").status_code == 202
    assert [r["name"] for r in client.get(url).json()] == ["acme/backend"]
    assert [r["name"] for r in client.get(url + "?status=deleted").json()] == ["acme/web"]
