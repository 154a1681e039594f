"""Releases and deploys (REFERENCE.md §5, §6): get-or-create POST (201/208), detail by
url-encoded version, PUT, DELETE, deploys (the list shows the latest per project and
environment)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    actor_of,
    json_response,
    multi_param,
    not_found,
    org_of,
    project_of,
    read_object,
    store_of,
)
from ..pagination import offset_page
from ..seeding import ensure_environment, find_by
from ..store import Store, now_iso
from ..validation.fields import Errors, string

KIND = "release"
SEMVER = re.compile(r"^(?:(?P<package>[^@]+)@)?(?P<raw>(?P<major>\d+)(?:\.(?P<minor>\d+))?"
                    r"(?:\.(?P<patch>\d+))?(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+(?P<build>.+))?)$")


def valid_version(version: str) -> bool:
    return bool(version) and version not in (".", "..", "latest") and not any(
        c in version for c in "/\n\t\r") and len(version) <= 200


def version_info(version: str) -> dict[str, Any] | None:
    match = SEMVER.match(version)
    if not match:
        return {"package": None, "version": {"raw": version}, "description": version,
                "buildHash": version if re.fullmatch(r"[0-9a-f]{40}", version) else None}
    parts = match.groupdict()
    return {"package": parts["package"],
            "version": {"raw": parts["raw"], "major": int(parts["major"]),
                        "minor": int(parts["minor"] or 0), "patch": int(parts["patch"] or 0),
                        "pre": parts["pre"], "buildCode": parts["build"],
                        "components": sum(1 for k in ("major", "minor", "patch") if parts[k])},
            "description": parts["raw"], "buildHash": None}


def short_version(version: str) -> str:
    return version[:12] if re.fullmatch(r"[0-9a-f]{40}", version) else version


def serialize_deploy(deploy: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(deploy["id"]), "environment": deploy["environment"],
            "dateStarted": deploy["dateStarted"], "dateFinished": deploy["dateFinished"],
            "name": deploy["name"], "url": deploy["url"]}


def last_deploy(deploy: dict[str, Any]) -> dict[str, Any]:
    """A release's `lastDeploy`: the deploy serializer, with `name` always a string (the
    release serializer falls back to the generated deploy name)."""
    return {**serialize_deploy(deploy), "name": deploy["name"] or
            f"{deploy['environment']}-{deploy['id']}"}


def serialize(store: Store, release: dict[str, Any]) -> dict[str, Any]:
    projects = [p for p in (store.get("project", pid) for pid in release["projects"]) if p]
    last = store.get("deploy", release["lastDeployId"]) if release.get("lastDeployId") else None
    return {
        "id": release["id"], "version": release["version"],
        "shortVersion": short_version(release["version"]), "status": release["status"],
        "versionInfo": version_info(release["version"]), "ref": release["ref"],
        "url": release["url"], "dateReleased": release["dateReleased"],
        "dateCreated": release["dateCreated"], "dateStarted": None, "data": {},
        "newGroups": 0, "owner": release["owner"], "commitCount": release["commitCount"],
        "lastCommit": release.get("lastCommit"), "deployCount": release["deployCount"],
        "lastDeploy": last_deploy(last) if last else None, "authors": [],
        "projects": [{"id": p["id"], "slug": p["slug"], "name": p["name"], "newGroups": 0,
                      "platform": p.get("platform"),
                      "platforms": [p["platform"]] if p.get("platform") else [],
                      "hasHealthData": False} for p in sorted(projects, key=lambda p: p["slug"])],
        "firstEvent": release.get("firstEvent"), "lastEvent": release.get("lastEvent"),
        "currentProjectMeta": {}, "userAgent": release.get("userAgent"),
        "adoptionStages": None}


def find_release(store: Store, org: dict[str, Any], version: str) -> dict[str, Any] | None:
    found = store.find(KIND, org["id"], version=version)
    return found[0] if found else None


def _projects(store: Store, org: dict[str, Any], refs: Any, errors: Errors) -> list[int]:
    if not isinstance(refs, list) or not refs:
        errors.add("projects", "This field is required." if not refs else
                   f'Expected a list of items but got type "{type(refs).__name__}".')
        return []
    ids = []
    for ref in refs:
        project = find_by(store, "project", org, ref, "slug") if isinstance(ref, (str, int)) \
            and not isinstance(ref, bool) else None
        if project is None:
            errors.add("projects", "Invalid project ids or slugs")
            return []
        ids.append(project["id"])
    return ids


def _commits(body: dict[str, Any], release: dict[str, Any], errors: Errors) -> None:
    commits = body.get("commits")
    if commits is None:
        return
    if not isinstance(commits, list) or not all(isinstance(c, dict) and c.get("id")
                                                for c in commits):
        errors.add("commits", "Invalid commits")
        return
    release["commitCount"] = len(commits)
    release["lastCommit"] = {"id": commits[0]["id"], "message": commits[0].get("message"),
                             "dateCreated": commits[0].get("timestamp") or now_iso()}


async def release_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "POST":
        return await _create(request, org, store, None)
    return _list(request, org, store, multi_param(request, "project"))


async def project_release_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    if request.method == "POST":
        return await _create(request, org, store, project)
    return _list(request, org, store, [str(project["id"])])


def _list(request: Request, org: dict[str, Any], store: Store, project_ids: list[str]) -> Response:
    rows = store.query(KIND, org["id"], descending=True)
    if project_ids and "-1" not in project_ids:
        wanted = {int(p) for p in project_ids if p.lstrip("-").isdigit()}
        rows = [r for r in rows if wanted & set(r["projects"])]
    query = request.query_params.get("query")
    if query:
        rows = [r for r in rows if query.lower() in r["version"].lower()]
    status = request.query_params.get("status", "open")
    if status in ("open", "archived"):
        rows = [r for r in rows if r["status"] == status]
    page = offset_page(request, lambda off, lim: rows[off:off + lim], hits=len(rows))
    return json_response([serialize(store, r) for r in page.items], headers=page.headers)


async def _create(request: Request, org: dict[str, Any], store: Store, project: dict[str, Any] | None) -> Response:
    body = await read_object(request, limit=request.app.state.config.max_body_bytes)
    errors = Errors()
    version: str | None = None
    if "version" in body:
        version = string(errors, "version", body.get("version"), max_length=200)
    else:
        errors.add("version", "This field is required.")
    if version is not None and not valid_version(version):
        errors.add("version", f"Release with name {version} is not allowed")
    if project is not None:
        ids = [project["id"]]
    else:
        ids = _projects(store, org, body.get("projects"), errors)
    status = body.get("status", "open")
    if status not in ("open", "archived"):
        errors.add("status", "Invalid status")
    errors.raise_if_any()
    assert version is not None  # a missing or invalid version raised above
    found = find_release(store, org, version)
    created = found is None
    with store.transaction():
        if found is None:
            release: dict[str, Any] = {"version": version, "projects": [], "status": status,
                       "ref": body.get("ref"), "url": body.get("url"),
                       "dateReleased": body.get("dateReleased"), "dateCreated": now_iso(),
                       "owner": body.get("owner"), "commitCount": 0, "lastCommit": None,
                       "deployCount": 0, "lastDeployId": None,
                       "userAgent": request.headers.get("user-agent")}
            store.insert(KIND, org["id"], release)
        else:
            release = found
            if status != release["status"] and "status" in body:
                release["status"] = status
        added = [pid for pid in ids if pid not in release["projects"]]
        release["projects"] += added
        _commits(body, release, errors)
        errors.raise_if_any()
        store.put(KIND, release)
        if created or added:
            store.audit(org["id"], actor=actor_of(request),
                        event="release.create" if created else "release.edit",
                        target=release["id"], data={"version": version})
    return json_response(serialize(store, release), 201 if created or added else 208)


def _release_of(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    release = find_release(store_of(request), org, request.path_params["version"])
    if release is None:
        raise not_found()
    return release


async def release_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    release = _release_of(request, org)
    if request.method == "GET":
        return json_response(serialize(store, release))
    if request.method == "DELETE":
        if store.find("issue", org["id"], firstRelease=release["version"]):
            raise ApiError(400, {"detail": "This release is referenced by active issues and "
                                           "cannot be removed."})
        with store.transaction():
            store.delete(KIND, release["id"])
            store.audit(org["id"], actor=actor_of(request), event="release.delete",
                        target=release["id"], data={"version": release["version"]})
        return json_response(None, 204)
    body = await read_object(request, limit=request.app.state.config.max_body_bytes)
    errors = Errors()
    for key in ("ref", "url", "dateReleased"):
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, str):
                errors.add(key, "Not a valid string.")
            release[key] = value
    if "status" in body:
        if body["status"] not in ("open", "archived"):
            errors.add("status", "Invalid status")
        else:
            release["status"] = body["status"]
    _commits(body, release, errors)
    errors.raise_if_any()
    with store.transaction():
        store.put(KIND, release)
        store.audit(org["id"], actor=actor_of(request), event="release.edit",
                    target=release["id"], data={"version": release["version"],
                                                "fields": sorted(body)})
    return json_response(serialize(store, release))


async def previous_with_commits(request: Request) -> Response:
    """The newest earlier release that has commits (sentry-cli's `set-commits --auto`)."""
    org, store = org_of(request), store_of(request)
    release = _release_of(request, org)
    earlier = [r for r in store.query(KIND, org["id"])
               if r["id"] < release["id"] and r["commitCount"] > 0]
    return json_response(serialize(store, earlier[-1]) if earlier else {})


async def deploy_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    release = _release_of(request, org)
    if request.method == "GET":
        latest = release.get("latestDeploys", {})  # "project:env" -> deploy id
        wanted = {int(p) for p in multi_param(request, "project") if p.lstrip("-").isdigit()}
        ids = {did for key, did in latest.items()
               if not wanted or int(key.split(":")[0]) in wanted}
        deploys = sorted((d for d in (store.get("deploy", i) for i in ids) if d is not None),
                         key=lambda d: d["dateFinished"], reverse=True)
        page = offset_page(request, lambda off, lim: deploys[off:off + lim])
        return json_response([serialize_deploy(d) for d in page.items], headers=page.headers)
    body = await read_object(request, limit=request.app.state.config.max_body_bytes)
    errors = Errors()
    env = body.get("environment")
    if not isinstance(env, str) or not env or len(env) > 64 or "/" in env or "\n" in env:
        errors.add("environment", "This field is required." if env is None
                   else "Invalid value for environment")
    for key in ("name", "url", "dateStarted", "dateFinished"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors.add(key, "Not a valid string.")
    projects = release["projects"]
    if body.get("projects") is not None:
        refs = body["projects"]
        found = [find_by(store, "project", org, r, "slug") for r in refs] \
            if isinstance(refs, list) and refs else None
        if not found:
            errors.add("projects", "This list may not be empty.")
        else:
            bad = [str(r) for r, p in zip(refs, found) if p is None or p["id"] not in projects]
            if bad:
                raise ApiError(400, {"detail": f"Invalid projects ({', '.join(bad)}) for release "
                                               f"{release['version']}"})
            projects = [p["id"] for p in found if p is not None]
    errors.raise_if_any()
    assert isinstance(env, str)  # refused above otherwise
    with store.transaction():
        ensure_environment(store, org, env)
        deploy = store.insert("deploy", org["id"], {
            "releaseId": release["id"], "environment": env, "name": body.get("name"),
            "url": body.get("url"), "dateStarted": body.get("dateStarted"),
            "dateFinished": body.get("dateFinished") or now_iso(), "projects": projects})
        release["deployCount"] += 1
        release["lastDeployId"] = deploy["id"]
        latest = release.setdefault("latestDeploys", {})
        for pid in projects:
            latest[f"{pid}:{env}"] = deploy["id"]
        store.put(KIND, release)
        store.audit(org["id"], actor=actor_of(request), event="deploy.create",
                    target=deploy["id"], data={"version": release["version"],
                                               "environment": env})
    return json_response(serialize_deploy(deploy), 201)


ROUTES = [
    ("/organizations/{org}/releases/", ["GET", "POST"], release_index),
    ("/organizations/{org}/releases/{version}/", ["GET", "PUT", "DELETE"], release_detail),
    ("/organizations/{org}/releases/{version}/deploys/", ["GET", "POST"], deploy_index),
    ("/organizations/{org}/releases/{version}/previous-with-commits/", ["GET"],
     previous_with_commits),
    ("/projects/{org}/{project}/releases/", ["GET", "POST"], project_release_index),
]
