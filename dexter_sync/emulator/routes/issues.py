"""Issues and events (REFERENCE.md §12): org issue list with query/sort/cursor, detail,
events (incl. latest/oldest), tags, project events."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    json_response,
    multi_param,
    not_found,
    org_of,
    project_of,
    read_object,
    store_of,
)
from ..pagination import keyed_page
from ..store import Store

PERIOD = re.compile(r"^(\d+)([smhdw])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
SORTS = {"date": "lastSeenMs", "new": "firstSeenMs", "freq": "count", "user": "users",
         "trends": "lastSeenMs", "inbox": "firstSeenMs", "recommended": "lastSeenMs",
         "priority": "lastSeenMs"}


def period_seconds(text: str) -> int | None:
    match = PERIOD.match(text.strip())
    return int(match.group(1)) * UNITS[match.group(2)] if match else None


def _instant_ms(text: str) -> int | None:
    """`-1h` (relative) or an ISO time, as epoch ms."""
    if text.startswith("-") and (secs := period_seconds(text[1:])) is not None:
        return int((time.time() - secs) * 1000)
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def serialize_issue(store: Store, org: dict[str, Any], issue: dict[str, Any], *, request: Request,
                    stats: bool = True) -> dict[str, Any]:
    project = store.get("project", issue["projectId"]) or {"id": 0, "slug": "?", "name": "?"}
    base = f"{request.url.scheme}://{request.url.netloc}"
    body = {"id": str(issue["id"]), "shareId": None, "shortId": issue["shortId"],
            "title": issue["title"], "culprit": issue["culprit"],
            "permalink": f"{base}/organizations/{org['slug']}/issues/{issue['id']}/",
            "logger": None, "level": issue["level"], "status": issue["status"],
            "statusDetails": {}, "substatus": issue["substatus"], "isPublic": False,
            "platform": issue["platform"],
            "project": {"id": str(project["id"]), "name": project["name"],
                        "slug": project["slug"], "platform": project.get("platform")},
            "type": issue["type"], "metadata": issue["metadata"], "numComments": 0,
            "assignedTo": None, "isBookmarked": False, "isSubscribed": False,
            "subscriptionDetails": None, "hasSeen": False, "annotations": [],
            "issueType": "error", "issueCategory": "error", "priority": "high",
            "priorityLockedAt": None, "isUnhandled": False, "count": str(issue["count"]),
            "userCount": len(issue["users"]), "firstSeen": issue["firstSeen"],
            "lastSeen": issue["lastSeen"], "seerAutofixLastTriggered": None,
            "seerExplorerAutofixLastTriggered": None, "seerFixabilityScore": None}
    if stats:
        body["stats"] = {"24h": _hourly(store, issue)}
    return body


def list_extras(issue: dict[str, Any]) -> dict[str, Any]:
    """Keys the issue-stream serializer adds to each list item."""
    counts = {"count": str(issue["count"]), "userCount": len(issue["users"]),
              "firstSeen": issue["firstSeen"], "lastSeen": issue["lastSeen"]}
    return {"derivedData": {"blocker": "", "progress": "", "status": "", "viewCount": 0,
                            "hasOpenFixPr": False, "isAssigned": False, "hasRootCause": False,
                            "lastCompletedAutofixStep": "", "lastProgressedAt": None},
            "filtered": None, "integrationIssues": [],
            "inbox": {"reason": 0, "reason_details": None, "date_added": issue["firstSeen"]}
            if issue["substatus"] == "new" else None,
            "latestEventHasAttachments": False, "lifetime": {**counts, "stats": None},
            "matchingEventEnvironment": None, "matchingEventId": None, "owners": None,
            "sentryAppIssues": [], "sessionCount": 0}


def _hourly(store: Store, issue: dict[str, Any]) -> list[list[int]]:
    """The last 24 hourly buckets of the issue's event counts (kept on the issue at ingest)."""
    now = int(time.time() // 3600 * 3600)
    counts = issue.get("hours", {})
    return [[t, counts.get(str(t), 0)] for t in range(now - 23 * 3600, now + 1, 3600)]


def _matches(issue: dict[str, Any], token: str) -> bool:
    key, sep, value = token.partition(":")
    if not sep:
        return token.lower() in issue["title"].lower() or token.lower() in issue["culprit"].lower()
    if key == "is":
        return {"unresolved": issue["status"] == "unresolved",
                "resolved": issue["status"] == "resolved",
                "ignored": issue["status"] == "ignored",
                "archived": issue["status"] == "ignored",
                "new": issue["substatus"] == "new",
                "regressed": issue["substatus"] == "regressed"}.get(value, True) is True
    if key in ("firstSeen", "lastSeen", "age"):
        field = "lastSeenMs" if key == "lastSeen" else "firstSeenMs"
        op = "<" if value.startswith("<") else ">"
        ms = _instant_ms(value.lstrip("<>="))
        if ms is None:
            raise ApiError(400, {"detail": f"Invalid date value for {key}: {value}"})
        return cast("bool", issue[field] >= ms if op == ">" else issue[field] <= ms)
    if key == "level":
        return cast("bool", issue["level"] == value)
    if key == "release":
        return issue.get("firstRelease") == value
    return True


async def issue_list(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    params = request.query_params
    issues = store.query("issue", org["id"])
    projects = {p for p in multi_param(request, "project") if p != "-1"}
    if projects:
        issues = [i for i in issues if str(i["projectId"]) in projects]
    envs = set(multi_param(request, "environment"))
    if envs:
        issues = [i for i in issues if envs & set(i["environments"])]
    period = params.get("statsPeriod", "14d")
    if period:
        secs = period_seconds(period)
        if secs is None:
            raise ApiError(400, {"detail": "Invalid statsPeriod"})
        cutoff = (time.time() - secs) * 1000
        issues = [i for i in issues if i["lastSeenMs"] >= cutoff]
    query = params.get("query", "is:unresolved")
    for token in query.split():
        issues = [i for i in issues if _matches(i, token)]
    sort = params.get("sort", "date")
    if sort not in SORTS:
        raise ApiError(400, {"detail": f"{sort} is not a valid sort"})
    field = SORTS[sort]

    def key(i: dict[str, Any]) -> int:
        value = i[field]
        return len(value) if isinstance(value, list) else int(value)

    issues.sort(key=lambda i: (key(i), i["id"]), reverse=True)
    limit = params.get("limit")
    request_limit = int(limit) if limit and limit.isdigit() and 0 < int(limit) <= 100 else 100
    page = keyed_page(request, issues, key, default=request_limit, hits=len(issues))
    collapse = set(multi_param(request, "collapse"))
    return json_response([{**serialize_issue(store, org, i, request=request,
                                             stats="stats" not in collapse), **list_extras(i)}
                          for i in page.items], headers=page.headers)


def issue_of(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    store = store_of(request)
    ref = request.path_params["issue_id"]
    issue = store.get("issue", ref, org=org["id"])
    if issue is None:  # a short id works too
        found = [i for i in store.query("issue", org["id"]) if i["shortId"] == ref.upper()]
        issue = found[0] if found else None
    if issue is None:
        raise not_found()
    return issue


async def issue_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    if request.method == "DELETE":
        store.delete("issue", issue["id"])
        return json_response(None, 202)
    if request.method == "PUT":
        body = await read_object(request)
        status = body.get("status")
        if status not in (None, "resolved", "unresolved", "ignored"):
            raise ApiError(400, {"status": [f'"{status}" is not a valid choice.']})
        if status:
            issue["status"] = status
            issue["substatus"] = {"resolved": None, "ignored": "archived_forever",
                                  "unresolved": "ongoing"}[status]
            store.put("issue", issue)
        return json_response(serialize_issue(store, org, issue, request=request))
    body = serialize_issue(store, org, issue, request=request)
    events = store.find("event", scope=str(issue["projectId"]), groupID=issue["id"])
    body.update({"seenBy": [], "pluginActions": [], "pluginIssues": [], "pluginContexts": [],
                 "userReportCount": 0, "participants": [], "activity": [],
                 "firstRelease": None, "lastRelease": None,
                 "tags": _tag_summary(events), "userCount": len(issue["users"])})
    links = [x for x in store.find("external_issue", org["id"]) if issue["id"] in x["groupIds"]]
    # Sentry adds the links only when asked (group_details.py `expand=integrationIssues`),
    # in ExternalIssueSerializer's shape: no integration id, its name and provider instead
    if "integrationIssues" in multi_param(request, "expand"):
        body["integrationIssues"] = [expanded_link(store, x) for x in links]
    body["annotations"] = [{"displayName": x["key"], "url": x["url"]} for x in links]
    return json_response(body)


def expanded_link(store: Store, ext: dict[str, Any]) -> dict[str, Any]:
    """ExternalIssueSerializer (S: integrations/api/serializers/models/external_issue.py)."""
    integ = store.get("integration", ext["integrationId"]) or {"provider": None, "name": None}
    return {"id": str(ext["id"]), "key": ext["key"], "title": ext["title"],
            "description": ext["description"], "displayName": ext["key"],
            "integrationKey": integ["provider"], "integrationName": integ["name"]}


def link_body(ext: dict[str, Any]) -> dict[str, Any]:
    return {"id": ext["id"], "key": ext["key"], "url": ext["url"],
            "integrationId": int(ext["integrationId"]), "displayName": ext["key"]}


def serialize_event(event: dict[str, Any], *, full: bool = True) -> dict[str, Any]:
    body = {"id": event["eventID"], "eventID": event["eventID"],
            "groupID": str(event["groupID"]), "title": event["title"],
            "message": event["message"], "dateCreated": event["dateCreated"],
            "dateReceived": event["dateReceived"], "platform": event["platform"] or "other",
            "event.type": event["type"], "type": event["type"],
            "tags": [{"key": k, "value": v} for k, v in event["tags"]],
            "user": event["user"], "culprit": event["culprit"], "location": None,
            "projectID": str(event["projectID"]), "crashFile": None, "size": 0,
            "metadata": {}, "context": {}, "contexts": {}, "sdk": None,
            "fingerprints": [], "errors": [], "packages": {}, "entries": []}
    if full:
        body.update({"_meta": {}, "dist": None, "nextEventID": None, "previousEventID": None,
                     "occurrence": None, "release": None, "resolvedWith": [],
                     "sdkUpdates": [], "userReport": None})
    if full and event.get("exception"):
        body["entries"] = [{"type": "exception", "data": event["exception"]}]
    return body


def _tag_summary(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = {}
    seen: dict[tuple[str, str], list[str]] = {}
    for event in events:
        for key, value in event["tags"]:
            counts.setdefault(key, Counter())[value] += 1
            first, last = seen.setdefault((key, value), [event["dateCreated"]] * 2)
            seen[(key, value)] = [min(first, event["dateCreated"]),
                                  max(last, event["dateCreated"])]
    return [{"key": k, "name": k, "totalValues": sum(c.values()),
             "topValues": [{"key": k, "name": v, "value": v, "count": n,
                            "firstSeen": seen[(k, v)][0], "lastSeen": seen[(k, v)][1]}
                           for v, n in c.most_common(9)]} for k, c in sorted(counts.items())]


def _event_page(request: Request, events: list[dict[str, Any]]) -> Response:
    """One page of events, newest first as given, summarized unless `full` is asked for."""
    page = keyed_page(request, events, lambda e: e["id"])
    full = request.query_params.get("full", "false").lower() in ("1", "true")
    return json_response([serialize_event(e, full=full) for e in page.items],
                         headers=page.headers)


async def issue_events(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    events = store.query("event", org["id"], scope=str(issue["projectId"]), descending=True)
    return _event_page(request, [e for e in events if e["groupID"] == issue["id"]])


async def issue_event_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    events = [e for e in store.query("event", org["id"], scope=str(issue["projectId"]))
              if e["groupID"] == issue["id"]]
    which = request.path_params["event_id"]
    if which in ("latest", "recommended"):
        chosen = events[-1:] if events else []
    elif which == "oldest":
        chosen = events[:1]
    else:
        chosen = [e for e in events if e["eventID"] == which]
    if not chosen:
        raise not_found()
    return json_response(serialize_event(chosen[0]))


async def issue_tags(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    issue = issue_of(request, org)
    events = store.find("event", scope=str(issue["projectId"]), groupID=issue["id"])
    summary = _tag_summary(events)
    key = request.path_params.get("key")
    if key is None:
        return json_response(summary)
    found = [t for t in summary if t["key"] == key]
    if not found:
        raise not_found()
    return json_response(found[0])


async def project_events(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    return _event_page(request, store.query("event", org["id"], scope=str(project["id"]),
                                            descending=True))


async def project_event_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    found = store.find("event", org["id"], scope=str(project["id"]),
                       eventID=request.path_params["event_id"])
    if not found:
        raise not_found()
    return json_response(serialize_event(found[0]))


ROUTES = [
    ("/organizations/{org}/issues/", ["GET"], issue_list),
    ("/organizations/{org}/issues/{issue_id}/", ["GET", "PUT", "DELETE"], issue_detail),
    ("/organizations/{org}/issues/{issue_id}/events/", ["GET"], issue_events),
    ("/organizations/{org}/issues/{issue_id}/events/{event_id}/", ["GET"], issue_event_detail),
    ("/organizations/{org}/issues/{issue_id}/tags/", ["GET"], issue_tags),
    ("/organizations/{org}/issues/{issue_id}/tags/{key}/", ["GET"], issue_tags),
    ("/projects/{org}/{project}/events/", ["GET"], project_events),
    ("/projects/{org}/{project}/events/{event_id}/", ["GET"], project_event_detail),
]
