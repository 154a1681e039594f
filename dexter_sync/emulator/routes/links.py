"""Integration links (REFERENCE.md §7–§9.2): code mappings, external-issue links on issues,
and the organization audit log."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    actor_of,
    json_response,
    not_found,
    object_of,
    org_of,
    read_object,
    store_of,
)
from ..pagination import keyed_page, offset_page
from ..seeding import PROVIDERS, find_by
from ..store import Store, now_iso
from ..validation.fields import convert_keys
from .issues import issue_of, link_body
from .org import serialize_integration

BRANCH = re.compile(r"^(?!/)[\w./-]+(?<!/)$")


# -- code mappings ---------------------------------------------------------------------
def serialize_mapping(store: Store, mapping: dict[str, Any]) -> dict[str, Any]:
    project = store.get("project", mapping["projectId"]) or {"slug": None}
    repo = store.get("repo", mapping["repoId"]) or {"name": None}
    integ = store.get("integration", mapping["integrationId"])
    provider = None
    if integ:
        meta = PROVIDERS[integ["provider"]]
        provider = {"key": integ["provider"], "slug": integ["provider"], "name": meta["name"],
                    "canAdd": True, "canDisable": False, "features": meta["features"],
                    "aspects": {}}
    return {"id": str(mapping["id"]), "projectId": str(mapping["projectId"]),
            "projectSlug": project["slug"], "repoId": str(mapping["repoId"]),
            "repoName": repo["name"],
            "integrationId": str(mapping["integrationId"]) if integ else None,
            "provider": provider, "stackRoot": mapping["stackRoot"],
            "sourceRoot": mapping["sourceRoot"], "defaultBranch": mapping["defaultBranch"],
            "automaticallyGenerated": False}


def _validate_mapping(store: Store, org: dict[str, Any], body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    body = convert_keys(body)
    integ_id = body.get("integration_id")
    if integ_id is None:
        raise ApiError(400, "Missing param: integrationId")
    integ = find_by(store, "integration", org, integ_id)
    if integ is None:
        raise ApiError(404, "Could not find this integration installed on your organization")
    try:
        raw_id: Any = body.get("project_id")
        project_id = int(raw_id)
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid projectId param. Expected an integer.") from None
    project = store.get("project", project_id, org=org["id"])
    if project is None:
        raise ApiError(404, "Could not find project")
    errors: dict[str, list[str]] = {}
    repo = store.get("repo", body.get("repository_id") or 0, org=org["id"]) \
        if str(body.get("repository_id", "")).isdigit() else None
    if repo is None or repo["integrationId"] != integ["id"]:
        errors["repositoryId"] = ["Repository does not exist"]
    roots = {}
    for key, camel in (("stack_root", "stackRoot"), ("source_root", "sourceRoot")):
        value = body.get(key)
        if value is None:
            errors[camel] = ["This field is required."]
        elif not isinstance(value, str) or re.search(r"[\s'\"]", value):
            errors[camel] = ["Path may not contain spaces or quotations"]
        roots[camel] = value
    branch = body.get("default_branch")
    if not isinstance(branch, str) or not branch:
        errors["defaultBranch"] = ["This field is required."]
    elif not BRANCH.match(branch):
        errors["defaultBranch"] = [("Branch name may only have letters, numbers, underscores, "
                                   "forward slashes, dashes, and periods. Branch name may not "
                                   "start or end with a forward slash.")]
    if errors:
        raise ApiError(400, errors)
    for other in store.query("code_mapping", org["id"]):
        if other["projectId"] == project["id"] and other["stackRoot"] == roots["stackRoot"] \
                and (existing is None or other["id"] != existing["id"]):
            raise ApiError(400, {"nonFieldErrors": [
                "Code path config already exists with this project and stack trace root"]})
    assert repo is not None  # refused above
    return {"projectId": project["id"], "repoId": repo["id"], "integrationId": integ["id"],
            "stackRoot": roots["stackRoot"], "sourceRoot": roots["sourceRoot"],
            "defaultBranch": branch}


async def mapping_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "POST":
        body = await read_object(request)
        record = _validate_mapping(store, org, body, None)
        with store.transaction():
            store.insert("code_mapping", org["id"], record)
            store.audit(org["id"], actor=actor_of(request), event="codemapping.add",
                        target=record["id"], data={"stackRoot": record["stackRoot"]})
        return json_response(serialize_mapping(store, record), 201)
    rows = store.query("code_mapping", org["id"])
    integ = request.query_params.get("integrationId")
    if integ:
        rows = [r for r in rows if str(r["integrationId"]) == integ]
    projects = [p for p in request.query_params.getlist("project") if p != "-1"]
    if projects:
        rows = [r for r in rows if str(r["projectId"]) in projects]
    page = offset_page(request, lambda off, lim: rows[off:off + lim])
    return json_response([serialize_mapping(store, r) for r in page.items], headers=page.headers)


async def mapping_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    mapping = object_of(request, org, "code_mapping", "config_id")
    if request.method == "DELETE":
        with store.transaction():
            store.delete("code_mapping", mapping["id"])
            store.audit(org["id"], actor=actor_of(request), event="codemapping.remove",
                        target=mapping["id"], data={"stackRoot": mapping["stackRoot"]})
        return json_response(None, 204)
    record = _validate_mapping(store, org, await read_object(request), mapping)
    record["id"] = mapping["id"]
    with store.transaction():
        store.put("code_mapping", record)
        store.audit(org["id"], actor=actor_of(request), event="codemapping.edit",
                    target=record["id"], data={"stackRoot": record["stackRoot"]})
    return json_response(serialize_mapping(store, record))


# -- external issues ---------------------------------------------------------------------
def _ticket_url(integ: dict[str, Any], key: str) -> str:
    if integ["provider"] == "github":
        repo, _, number = key.partition("#")
        return f"https://github.com/{repo}/issues/{number}"
    return f"https://{integ['name'].lower().replace(' ', '-')}.atlassian.net/browse/{key}"


async def issue_integration(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    integ = find_by(store, "integration", org, request.path_params["integration_id"])
    if integ is None or "issue-basic" not in PROVIDERS[integ["provider"]]["features"]:
        raise not_found()
    if request.method == "GET":
        body = serialize_integration(org, integ)
        action = request.query_params.get("action", "link")
        body["linkIssueConfig" if action == "link" else "createIssueConfig"] = [
            {"name": "externalIssue", "label": "Issue", "type": "select", "required": True}
            if action == "link" else
            {"name": "title", "label": "Title", "type": "string", "required": True}]
        return json_response(body)
    if request.method == "DELETE":
        ext = store.get("external_issue", request.query_params.get("externalIssue", ""),
                        org=org["id"])
        if ext is None or issue["id"] not in ext["groupIds"]:
            raise not_found()
        with store.transaction():
            ext["groupIds"].remove(issue["id"])
            store.put("external_issue", ext)
            store.audit(org["id"], actor=actor_of(request), event="externalissue.unlink",
                        target=ext["id"], data={"key": ext["key"], "issue": issue["id"]})
        return json_response(None, 204)
    body = await read_object(request)
    existing = [x for x in store.find("external_issue", org["id"], integrationId=integ["id"])]
    if request.method == "PUT":
        key = body.get("externalIssue")
        if not isinstance(key, str) or not key.strip():
            raise ApiError(400, {"externalIssue": ["This field is required."]})
        key = key.strip()
    else:
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, {"title": ["This field is required."]})
        number = store.next_id(f"ticket:{integ['id']}")
        key = f"{body.get('repo') or 'acme/tracker'}#{number}" \
            if integ["provider"] == "github" else f"{body.get('project') or 'PROJ'}-{number}"
    ext = next((x for x in existing if x["key"] == key), None)
    if ext is not None and issue["id"] in ext["groupIds"]:
        if request.method == "PUT":
            raise ApiError(400, {"non_field_errors": ["That issue is already linked"]})
        raise ApiError(400, {"detail": "That issue is already linked"})
    with store.transaction():
        if ext is None:
            ext = store.insert("external_issue", org["id"], {
                "integrationId": integ["id"], "key": key, "url": _ticket_url(integ, key),
                "title": body.get("title") or key, "description": body.get("description"),
                "groupIds": [], "dateCreated": now_iso()})
        ext["groupIds"].append(issue["id"])
        store.put("external_issue", ext)
        store.audit(org["id"], actor=actor_of(request), event="externalissue.link",
                    target=ext["id"], data={"key": key, "issue": issue["id"]})
    return json_response(link_body(ext), 201)


async def issue_integrations(request: Request) -> Response:
    """The org's issue-tracker integrations, each with the issue's links on it
    (S: integrations/api/endpoints/group_integrations.py, IntegrationIssueSerializer)."""
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    trackers = [i for i in store.query("integration", org["id"])
                if {"issue-basic", "issue-sync"} & set(PROVIDERS[i["provider"]]["features"])]
    links = [x for x in store.find("external_issue", org["id"]) if issue["id"] in x["groupIds"]]
    page = offset_page(request, lambda off, lim: trackers[off:off + lim])
    return json_response([
        {**serialize_integration(org, integ), "externalIssues": [
            {"id": str(x["id"]), "key": x["key"], "url": x["url"], "title": x["title"],
             "description": x["description"], "displayName": x["key"]}
            for x in links if x["integrationId"] == integ["id"]]}
        for integ in page.items], headers=page.headers)


async def external_issues(request: Request) -> Response:
    """Sentry-app (platform) external issues of an issue, never integration links
    (S: group_external_issues.py); the emulator creates none."""
    org = org_of(request)
    issue_of(request, org)
    return json_response([])


# -- audit log ---------------------------------------------------------------------------
AUDIT_EVENTS = sorted({"alertrule.add", "alertrule.edit", "alertrule.remove", "rule.add",
                       "rule.edit", "rule.remove", "project.create", "team.create",
                       "member.add", "integration.add", "repo.add", "release.create",
                       "release.edit", "release.delete", "deploy.create", "codemapping.add",
                       "codemapping.edit", "codemapping.remove", "discoversavedquery.add",
                       "discoversavedquery.edit", "discoversavedquery.remove",
                       "externalissue.link", "externalissue.unlink"})


def serialize_audit(entry: dict[str, Any]) -> dict[str, Any]:
    actor = entry.get("actor") or {"name": "Sentry"}
    return {"id": str(entry["id"]),
            "actor": {"id": str(actor.get("id", "")), "name": actor.get("name"),
                      "username": actor.get("email") or actor.get("name"),
                      "email": actor.get("email"), "type": actor.get("type", "user")},
            "event": entry["event"], "ipAddress": "127.0.0.1", "note": entry.get("note") or
            f"{entry['event']} {entry.get('targetObject')}",
            "targetObject": entry.get("targetObject"), "targetUser": None,
            "data": entry.get("data") or {}, "dateCreated": entry["dateCreated"]}


async def audit_log(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    entries = store.audit_entries(org["id"], limit=1_000_000)
    event = request.query_params.get("event")
    if event:
        entries = [e for e in entries if e["event"] == event]
    actor = request.query_params.get("actor")
    if actor:
        entries = [e for e in entries if str((e.get("actor") or {}).get("id")) == actor
                   or (e.get("actor") or {}).get("name") == actor]
    page = keyed_page(request, entries, lambda e: e["id"])
    return json_response({"rows": [serialize_audit(e) for e in page.items],
                          "options": AUDIT_EVENTS}, headers=page.headers)


ROUTES = [
    ("/organizations/{org}/code-mappings/", ["GET", "POST"], mapping_index),
    ("/organizations/{org}/code-mappings/{config_id}/", ["PUT", "DELETE"], mapping_detail),
    ("/organizations/{org}/issues/{issue_id}/integrations/", ["GET"], issue_integrations),
    ("/organizations/{org}/issues/{issue_id}/integrations/{integration_id}/",
     ["GET", "PUT", "POST", "DELETE"], issue_integration),
    ("/organizations/{org}/issues/{issue_id}/external-issues/", ["GET"], external_issues),
    ("/organizations/{org}/audit-logs/", ["GET"], audit_log),
]
