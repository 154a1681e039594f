"""SDK ingestion: `/api/{project_id}/envelope/` and `/api/{project_id}/store/`, with DSN key
auth, grouping events into issues (see grouping.py)."""

from __future__ import annotations

import json
import time
import uuid as uuidlib
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlparse

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, read_body, store_of
from ..eventtable import insert_rows, row_from_event
from ..grouping import (
    EnvelopeError,
    culprit_of,
    decompress,
    event_as_dict,
    group_hash,
    message_of,
    parse_envelope,
    tags_of,
    title_of,
    user_key,
)
from ..rulefiring import fire_rules
from ..seeding import ensure_environment
from ..store import Store

EVENT_ITEMS = {"event"}


def _auth_key(request: Request, envelope_header: dict[str, Any] | None = None) -> str | None:
    key = request.query_params.get("sentry_key")
    for header in ("x-sentry-auth", "authorization"):
        value = request.headers.get(header, "")
        if value.lower().startswith("sentry "):
            for part in value[7:].split(","):
                name, _, val = part.strip().partition("=")
                if name == "sentry_key":
                    key = key or val.strip()
    if key is None and envelope_header and isinstance(envelope_header.get("dsn"), str):
        key = urlparse(envelope_header["dsn"]).username
    return key


def _project_for(request: Request, key: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    store = store_of(request)
    project_id = request.path_params["project_id"]
    project = store.get("project", project_id)
    if key is None:
        raise ApiError(401, {"detail": "missing authorization information"})
    if project is None:
        raise ApiError(400, {"detail": "invalid project id"})
    keys = store.query("project_key", scope=str(project["id"]))
    if not any(k["public"] == key for k in keys):
        raise ApiError(401, {"detail": "invalid authorization information"})
    org = store.get("org", _org_id(store, project))
    assert org is not None  # a project always belongs to an organization
    return org, project


def _org_id(store: Store, project: dict[str, Any]) -> int:
    for org in store.query("org"):
        if store.get("project", project["id"], org=org["id"]):
            return cast("int", org["id"])
    raise ApiError(400, {"detail": "invalid project id"})


async def _body(request: Request) -> bytes:
    raw = await read_body(request, request.app.state.config.max_envelope_bytes)
    try:
        return decompress(raw, request.headers.get("content-encoding", ""))
    except EnvelopeError as exc:
        raise ApiError(400, {"detail": str(exc)}) from None


async def envelope(request: Request) -> Response:
    body = await _body(request)
    try:
        header, items = parse_envelope(body)
    except EnvelopeError as exc:
        raise ApiError(400, {"detail": f"invalid envelope: {exc}"}) from None
    org, project = _project_for(request, _auth_key(request, header))
    event_id = header.get("event_id")
    for item_header, payload in items:
        if item_header.get("type") not in EVENT_ITEMS | {"transaction"}:
            continue  # sessions, attachments... accepted and dropped
        try:
            event = event_as_dict(json.loads(payload))
        except (ValueError, EnvelopeError) as exc:
            raise ApiError(400, {"detail": f"invalid event: {exc}"}) from None
        if item_header.get("type") == "transaction":
            event_id = record_transaction(store_of(request), org, project, event)
        else:
            event_id = record_event(store_of(request), org, project, event)
    return json_response({"id": event_id} if event_id else {})


async def store_endpoint(request: Request) -> Response:
    body = await _body(request)
    org, project = _project_for(request, _auth_key(request))
    try:
        event = event_as_dict(json.loads(body))
    except (ValueError, EnvelopeError) as exc:
        raise ApiError(400, {"detail": f"invalid event: {exc}"}) from None
    return json_response({"id": record_event(store_of(request), org, project, event)})


def record_event(store: Store, org: dict[str, Any], project: dict[str, Any], event: dict[str, Any]) -> str:
    """Store one event and fold it into its issue (creating the issue when new)."""
    event_id = str(event.get("event_id") or uuidlib.uuid4().hex).replace("-", "")[:32]
    now = datetime.now(UTC)
    stamp, ms = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), int(now.timestamp() * 1000)
    digest = group_hash(event)
    title, metadata = title_of(event)
    level = str(event.get("level") or "error")
    user = user_key(event)
    with store.transaction():
        if event.get("environment"):
            ensure_environment(store, org, str(event["environment"]))
        found = store.find("issue", org["id"], scope=str(project["id"]), hash=digest)
        regressed = False
        if found:
            issue = found[0]
            issue["count"] += 1
            issue["lastSeen"], issue["lastSeenMs"] = stamp, ms
            if issue["status"] == "resolved":
                issue["status"], issue["substatus"] = "unresolved", "regressed"
                regressed = True
        else:
            number = store.next_id(f"short_id:{project['id']}")
            issue = store.insert("issue", org["id"], {
                "projectId": project["id"], "hash": digest,
                "shortId": f"{project['slug'].upper()}-{number}", "title": title,
                "culprit": culprit_of(event), "level": level, "status": "unresolved",
                "substatus": "new", "firstSeen": stamp, "firstSeenMs": ms, "lastSeen": stamp,
                "lastSeenMs": ms, "count": 1, "users": [], "metadata": metadata,
                "type": "error" if "exception" in event else "default",
                "platform": event.get("platform") or "other",
                "firstRelease": event.get("release"), "environments": []},
                scope=str(project["id"]))
        hour = str(ms // 3_600_000 * 3600)
        hours = issue.setdefault("hours", {})
        hours[hour] = hours.get(hour, 0) + 1
        for stale in [h for h in hours if int(h) < int(hour) - 30 * 86400]:
            del hours[stale]  # keep a month of buckets
        if user and user not in issue["users"]:
            issue["users"].append(user)
        env = event.get("environment")
        if env and env not in issue["environments"]:
            issue["environments"].append(str(env))
        store.put("issue", issue)
        store.insert("event", org["id"], {
            "eventID": event_id, "groupID": issue["id"], "projectID": project["id"],
            "title": title, "message": message_of(event), "dateCreated": stamp,
            "dateReceived": stamp, "receivedMs": ms, "platform": event.get("platform"),
            "type": issue["type"], "tags": tags_of(event), "user": event.get("user"),
            "culprit": issue["culprit"], "environment": env, "release": event.get("release"),
            "level": level, "fingerprint": event.get("fingerprint"),
            "exception": event.get("exception"), "time": time.time()},
            scope=str(project["id"]))
        insert_rows(store, [row_from_event(
            event, org=str(org["id"]), project_id=project["id"], event_id=event_id,
            received_ms=ms, kind=issue["type"], group_id=issue["id"], title=title,
            message=message_of(event), tags=tags_of(event))])
        fire_rules(store, org, project, issue, event_id, new=not found, regressed=regressed,
                   environment=str(env) if env else None)
    return event_id


def record_transaction(store: Store, org: dict[str, Any], project: dict[str, Any], event: dict[str, Any]) -> str:
    """A transaction feeds only the Discover events table (no issue)."""
    event_id = str(event.get("event_id") or uuidlib.uuid4().hex).replace("-", "")[:32]
    ms = int(time.time() * 1000)
    name = str(event.get("transaction") or "<unlabeled transaction>")
    insert_rows(store, [row_from_event(
        event, org=str(org["id"]), project_id=project["id"], event_id=event_id,
        received_ms=ms, kind="transaction", group_id=None, title=name, message=name,
        tags=tags_of(event))])
    return event_id


ROUTES = [
    ("/{project_id:int}/envelope/", ["POST"], envelope),
    ("/{project_id:int}/store/", ["POST"], store_endpoint),
]
