"""Discover saved queries (REFERENCE.md §4): version 1/2 field rules, only non-null query
keys stored and returned, list with query/sortBy and offset pagination (default 25)."""

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
from ..pagination import offset_page
from ..store import Store, now_iso
from ..validation.fields import Errors, integer, string

KIND = "saved_query"
V1_ONLY = ["groupby", "rollup", "aggregations", "conditions", "limit"]
V2_ONLY = ["environment", "query", "yAxis", "display", "topEvents", "interval"]
QUERY_KEYS = ["environment", "query", "fields", "widths", "range", "start", "end", "orderby",
              "yAxis", "display", "topEvents", "interval", "groupby", "rollup", "aggregations",
              "conditions", "limit"]
DATASETS = ["error-events", "transaction-like", "discover"]
DISPLAYS = ["default", "previous", "top5", "daily", "dailytop5", "bar"]
SORTS = {"name", "dateCreated", "dateUpdated", "mostPopular", "recentlyViewed", "myqueries"}


def serialize(store: Store, query: dict[str, Any]) -> dict[str, Any]:
    body = {"id": str(query["id"]), "name": query["name"],
            "projects": [-1] if query.get("allProjects") else list(query["projects"]),
            "version": query.get("version") or 1, "queryDataset": query["queryDataset"],
            "datasetSource": "user", "expired": False, "dateCreated": query["dateCreated"],
            "dateUpdated": query["dateUpdated"], "createdBy": query.get("createdBy")}
    for key in QUERY_KEYS:
        if query.get(key) is not None:
            body[key] = query[key]
    return body


def _user(actor: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(actor["id"]), "name": actor["name"], "username": actor["email"],
            "email": actor["email"], "avatarUrl": "", "isActive": True,
            "hasPasswordAuth": True, "isManaged": False, "dateJoined": "2020-01-01T00:00:00Z",
            "lastLogin": None, "has2fa": False, "lastActive": None, "isSuperuser": False,
            "isStaff": False, "isSuspended": False, "experiments": {}, "emails": [], "avatar": {
                "avatarType": "letter_avatar", "avatarUuid": None}}


def validate(store: Store, org: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    errors = Errors()
    name: str | None = None
    if "name" in body:
        name = string(errors, "name", body.get("name"), max_length=255)
    else:
        errors.add("name", "This field is required.")
    version = body.get("version", 1)
    version = integer(errors, "version", version, low=1, high=2) if version is not None else 1
    dataset = body.get("queryDataset", "error-events")
    if dataset not in DATASETS:
        errors.add("queryDataset", f'"{dataset}" is not a valid choice.')
    rec: dict[str, Any] = {"name": name, "version": version, "queryDataset": dataset}
    projects = body.get("projects") or []
    if not isinstance(projects, list) or not all(isinstance(p, int) and not isinstance(p, bool)
                                                 for p in projects):
        errors.add("projects", "Expected a list of project ids.")
        projects = []
    rec["allProjects"] = -1 in projects
    known = {p["id"] for p in store.query("project", org["id"])}
    unknown = [p for p in projects if p != -1 and p not in known]
    if unknown:
        raise ApiError(403, {"detail": "You do not have permission to perform this action."})
    rec["projects"] = sorted({p for p in projects if p != -1})
    for key in QUERY_KEYS:
        if body.get(key) is not None:
            rec[key] = body[key]
    banned = V2_ONLY if version == 1 else V1_ONLY
    used = [k for k in banned if body.get(k) is not None]
    if used and version in (1, 2):
        errors.add("nonFieldErrors", f"You cannot use the {', '.join(used)} attribute(s) "
                   "with the selected version")
    if version == 2 and not body.get("fields"):
        errors.add("nonFieldErrors", "You must include at least one field.")
    for key in ("fields", "yAxis", "widths", "environment"):
        value = body.get(key)
        if value is not None and not (isinstance(value, list) and
                                      all(isinstance(v, str) for v in value)):
            if key == "yAxis" and isinstance(value, str):
                rec[key] = [value]
                continue
            errors.add(key, f'Expected a list of items but got type "{type(value).__name__}".')
    if body.get("display") is not None and body["display"] not in DISPLAYS:
        errors.add("display", f'"{body["display"]}" is not a valid choice.')
    if body.get("topEvents") is not None:
        integer(errors, "topEvents", body["topEvents"], low=1, high=10)
    for key in ("query", "orderby", "range", "interval"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors.add(key, "Not a valid string.")
    errors.raise_if_any()
    return rec


async def query_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "POST":
        rec = validate(store, org, await read_object(request))
        rec.update(dateCreated=now_iso(), createdBy=_user(actor_of(request)))
        rec["dateUpdated"] = rec["dateCreated"]
        with store.transaction():
            store.insert(KIND, org["id"], rec)
            store.audit(org["id"], actor=actor_of(request), event="discoversavedquery.add",
                        target=rec["id"], data={"name": rec["name"]})
        return json_response(serialize(store, rec), 201)
    rows = store.query(KIND, org["id"])
    for token in request.query_params.get("query", "").split():
        key, sep, value = token.partition(":")
        if not sep:
            rows = [r for r in rows if token.lower() in r["name"].lower()]
        elif key == "name":
            rows = [r for r in rows if value.lower() in r["name"].lower()]
        elif key == "version":
            rows = [r for r in rows if str(r.get("version")) == value]
        else:
            rows = []
    sort = request.query_params.get("sortBy", "name")
    field = sort.lstrip("-")
    if field not in SORTS:
        raise ApiError(400, {"detail": f"{sort} is not a valid sortBy field"})
    if field == "name":
        rows.sort(key=lambda r: r["name"].lower(), reverse=sort.startswith("-"))
    elif field in ("dateCreated", "dateUpdated"):
        rows.sort(key=lambda r: r[field], reverse=sort.startswith("-"))
    if request.query_params.get("all") == "1":
        return json_response([serialize(store, r) for r in rows])
    page = offset_page(request, lambda off, lim: rows[off:off + lim], default=25)
    items = [serialize(store, r) for r in page.items]
    if request.app.state.config.quirks.discover_list_as_object:  # a broken shape, for tests
        return json_response({"results": items}, headers=page.headers)
    return json_response(items, headers=page.headers)


async def query_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    query = object_of(request, org, KIND, "query_id")
    if request.method == "GET":
        return json_response(serialize(store, query))
    if request.method == "DELETE":
        with store.transaction():
            store.delete(KIND, query["id"])
            store.audit(org["id"], actor=actor_of(request), event="discoversavedquery.remove",
                        target=query["id"], data={"name": query["name"]})
        return json_response(None, 204)
    rec = validate(store, org, await read_object(request))
    rec.update(id=query["id"], dateCreated=query["dateCreated"], dateUpdated=now_iso(),
               createdBy=query.get("createdBy"))
    with store.transaction():
        store.put(KIND, rec)
        store.audit(org["id"], actor=actor_of(request), event="discoversavedquery.edit",
                    target=rec["id"], data={"name": rec["name"]})
    return json_response(serialize(store, rec))


ROUTES = [
    ("/organizations/{org}/discover/saved/", ["GET", "POST"], query_index),
    ("/organizations/{org}/discover/saved/{query_id}/", ["GET", "PUT", "DELETE"], query_detail),
]
