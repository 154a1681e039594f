"""Organization repositories (REFERENCE.md §7): the public list plus the private writes the
UI and integrations use (create by provider + installation, update, delete)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    actor_of,
    json_response,
    object_of,
    org_of,
    read_object,
    store_of,
)
from ..seeding import REPO_PROVIDERS, find_by
from ..store import now_iso
from .org import paged, serialize_repo

STATUSES = {"visible": "active", "active": "active", "hidden": "hidden"}


async def repo_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "POST":
        return await _create(request, org)
    items = sorted(store.query("repo", org["id"]), key=lambda r: r["name"])
    status = request.query_params.get("status", "active")
    if status == "active":
        items = [r for r in items if r["status"] == "active"]
    elif status == "deleted":
        items = [r for r in items if r["status"] != "active"]
    else:
        items = []
    query = request.query_params.get("query")
    if query:
        items = [r for r in items if query.lower() in r["name"].lower()]
    integ = request.query_params.get("integration_id")
    if integ:
        items = [r for r in items if str(r["integrationId"]) == integ]
    return paged(request, [serialize_repo(r) for r in items])


async def _create(request: Request, org: dict[str, Any]) -> Response:
    store = store_of(request)
    body = await read_object(request)
    provider = body.get("provider")
    key = provider.removeprefix("integrations:") if isinstance(provider, str) else None
    if key not in REPO_PROVIDERS:
        raise ApiError(400, {"error_type": "validation"})
    integ = find_by(store, "integration", org, body.get("installation") or "")
    if integ is None or integ["provider"] != key:
        raise ApiError(404, {"detail": "Integration matching query does not exist."})
    name = body.get("identifier")
    if not isinstance(name, str) or "/" not in name.strip("/"):
        raise ApiError(400, {"error_type": "validation",
                             "errors": {"identifier": "Repository must be owner/name"}})
    name = name.strip("/")
    if any(r["name"] == name and r["provider"] == key and r["status"] != "pending_deletion"
           for r in store.query("repo", org["id"])):
        raise ApiError(400, {"error_type": "validation",
                             "errors": {"__all__": "A repository with that name already exists"}})
    host = {"gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}.get(key, "github.com")
    with store.transaction():
        repo = store.insert("repo", org["id"], {
            "name": name, "provider": key, "integrationId": integ["id"],
            "url": f"https://{host}/{name}", "status": "active", "dateCreated": now_iso()})
        repo["externalId"] = str(800000 + repo["id"])
        store.put("repo", repo)
        store.audit(org["id"], actor=actor_of(request), event="repo.add", target=repo["id"],
                    data={"name": name})
    return json_response(serialize_repo(repo), 201)


async def repo_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    repo = object_of(request, org, "repo", "repo_id")
    if request.method == "DELETE":
        with store.transaction():
            repo["status"] = "pending_deletion"
            store.put("repo", repo)
            store.audit(org["id"], actor=actor_of(request), event="repo.remove",
                        target=repo["id"], data={"name": repo["name"]})
        return json_response(serialize_repo(repo), 202)
    body = await read_object(request)
    errors: dict[str, list[str]] = {}
    if "status" in body:
        if body["status"] not in STATUSES:
            errors["status"] = [f'"{body["status"]}" is not a valid choice.']
        else:
            repo["status"] = STATUSES[body["status"]]
    for key in ("name", "url"):
        if key in body:
            if not isinstance(body[key], str) or not body[key]:
                errors[key] = ["Not a valid string."]
            else:
                repo[key] = body[key]
    if "integrationId" in body:
        integ = find_by(store, "integration", org, body["integrationId"] or "")
        if integ is None:
            errors["integrationId"] = ["Integration does not exist."]
        else:
            repo["integrationId"] = integ["id"]
    if errors:
        raise ApiError(400, errors)
    with store.transaction():
        store.put("repo", repo)
        store.audit(org["id"], actor=actor_of(request), event="repo.edit", target=repo["id"],
                    data={"name": repo["name"], "fields": sorted(body)})
    return json_response(serialize_repo(repo))


ROUTES = [
    ("/organizations/{org}/repos/", ["GET", "POST"], repo_index),
    ("/organizations/{org}/repos/{repo_id}/", ["PUT", "DELETE"], repo_detail),
]
