"""Detectors ("Monitors", REFERENCE-workflows.md §1, §2.7-2.9): the org list with bulk
enable/delete, detail GET/PUT/DELETE and the project-level create.

Types: `metric_issue`, `uptime_domain_failure`, `monitor_check_in_failure`, plus the
system-created `error` and `issue_stream` detectors every project has, which cannot be
created or deleted. Links to workflows live in the `detector_workflow` table; a detector
PUT with `workflowIds` replaces its side of that table.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import (
    ApiError,
    actor_of,
    json_response,
    not_found,
    org_of,
    project_of,
    read_object,
    store_of,
)
from ..pagination import offset_page
from ..seeding import slugify
from ..store import Store, now_iso
from ..validation.fields import convert_keys
from .condition_groups import as_int, build_group, camel, serialize_group

KIND = "detector"
LINK = "detector_workflow"
SYSTEM_TYPES = ("error", "issue_stream")
USER_TYPES = ("metric_issue", "uptime_domain_failure", "monitor_check_in_failure")
TYPE_ALIASES = {"metric": "metric_issue", "uptime": "uptime_domain_failure",
                "cron": "monitor_check_in_failure"}
DATASETS = ("events", "transactions", "generic_metrics", "metrics", "events_analytics_platform")
WINDOWS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 86400)
DEFAULT_EVENT_TYPES = {"events": ["error", "default"], "transactions": ["transaction"],
                       "events_analytics_platform": ["trace_item_span"]}
UPTIME_INTERVALS = (60, 300, 600, 1200, 1800, 3600)
METHODS = ("GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS")
METRIC_CONDITIONS = {"gt", "lt", "gte", "lte", "eq", "ne", "anomaly_detection"}
UPTIME_GROUP = [("eq", "failure", 75), ("eq", "success", 0)]
CRON_DEFAULTS = {"checkin_margin": None, "max_runtime": None, "timezone": "UTC",
                 "failure_issue_threshold": 1, "recovery_threshold": 1}

Record = dict[str, Any]
"""A stored record or a JSON object."""


def bad(field: str, message: Any) -> ApiError:
    return ApiError(400, {field: [message] if isinstance(message, str) else message})


# ---- system detectors ------------------------------------------------------------------

def ensure_system_detectors(store: Store, org: Record) -> None:
    """Every project has one `error` and one `issue_stream` detector (made by Sentry)."""
    have = {(d["projectId"], d["type"]) for d in store.snapshot(KIND, org["id"])
            if d["type"] in SYSTEM_TYPES}
    missing = [(p, kind) for p in store.snapshot("project", org["id"])
               for kind in SYSTEM_TYPES if (p["id"], kind) not in have]
    if not missing:
        return
    with store.transaction():
        for project, kind in missing:
            name = "Error Monitor" if kind == "error" else "Issue Stream"
            store.insert(KIND, org["id"], {
                "name": name, "type": kind, "projectId": project["id"], "description": None,
                "owner": None, "enabled": True, "config": {}, "dataSource": None,
                "conditionGroup": None, "createdBy": None, "dateCreated": now_iso(),
                "dateUpdated": now_iso(), "alertRuleId": None, "ruleId": None},
                scope=str(project["id"]))


def system_detector(store: Store, org: Record, project_id: int, kind: str) -> Record:
    ensure_system_detectors(store, org)
    return next(d for d in store.snapshot(KIND, org["id"])
                if d["projectId"] == project_id and d["type"] == kind)


# ---- links ------------------------------------------------------------------------------

def links(store: Store, org: Record) -> list[Record]:
    return store.snapshot(LINK, org["id"])


def set_links(store: Store, org: Record, *, detector: int | None = None,
              workflow: int | None = None, others: list[int]) -> None:
    """Replace one side's link set (a detector's workflows or a workflow's detectors)."""
    side, other = ("detectorId", "workflowId") if detector is not None else \
        ("workflowId", "detectorId")
    me = detector if detector is not None else workflow
    with store.transaction():
        for row in [r for r in links(store, org) if r[side] == me]:
            store.delete(LINK, row["id"])
        for ident in dict.fromkeys(others):
            store.insert(LINK, org["id"], {side: me, other: ident})


def check_ids(store: Store, org: Record, kind: str, raw: Any, field: str, label: str
              ) -> list[int]:
    if not isinstance(raw, list):
        raise bad(field, "Expected a list of items.")
    ids = [as_int(v) for v in raw]
    known = {r["id"] for r in store.snapshot(kind, org["id"])}
    missing = [str(v) for v, i in zip(raw, ids, strict=True) if i is None or i not in known]
    if missing:
        raise ApiError(400, {field: [f"Some {label} do not exist: {{{', '.join(missing)}}}"]})
    return [i for i in ids if i is not None]


# ---- validation --------------------------------------------------------------------------

def _one_source(body: Record) -> Record:
    sources = body.get("data_sources")
    if not isinstance(sources, list) or not sources:
        raise bad("dataSources", "This field is required.")
    if len(sources) > 1:
        raise bad("dataSources", "Only one data source is allowed for this detector type.")
    if not isinstance(sources[0], dict):
        raise bad("dataSources", "Expected a dictionary of items.")
    return sources[0]


def _metric_source(data: Record, old: Record | None) -> Record:
    query = {**(old or {}), **data}
    if not isinstance(query.get("aggregate"), str) or not query["aggregate"].strip():
        raise bad("dataSources", {"aggregate": ["This field is required."]})
    if query.get("dataset") not in DATASETS:
        raise bad("dataSources", {"dataset": [f"Invalid dataset {query.get('dataset')!r}"]})
    window = as_int(query.get("time_window"))
    if window not in WINDOWS:
        allowed = ", ".join(map(str, WINDOWS))
        raise bad("dataSources", {"timeWindow": [
            f"Invalid time window {query.get('time_window')!r}: one of {allowed} seconds"]})
    if "project:" in str(query.get("query") or ""):
        raise bad("dataSources", {"query": ["Project is an invalid search term"]})
    event_types = query.get("event_types") or DEFAULT_EVENT_TYPES.get(query["dataset"], [])
    return {"aggregate": query["aggregate"], "dataset": query["dataset"],
            "query": query.get("query") or "", "time_window": window,
            "environment": query.get("environment"), "event_types": list(event_types),
            "extrapolation_mode": query.get("extrapolation_mode") or "unknown"}


def _uptime_source(data: Record, old: Record | None) -> Record:
    query = {"method": "GET", "headers": [], "body": None, "trace_sampling": False,
             "assertion": None, **(old or {}), **data}
    url = query.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 255:
        raise bad("dataSources", {"url": ["Enter a valid URL."]})
    if query["method"] not in METHODS:
        raise bad("dataSources", {"method": [f'"{query["method"]}" is not a valid choice.']})
    headers = query["headers"]
    if not isinstance(headers, list) or not all(
            isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h)
            for h in headers):
        raise bad("dataSources", {"headers": ["Expected array of header tuples."]})
    if as_int(query.get("interval_seconds")) not in UPTIME_INTERVALS:
        raise bad("dataSources", {"intervalSeconds": [
            f'"{query.get("interval_seconds")}" is not a valid choice.']})
    timeout = as_int(query.get("timeout_ms"))
    if timeout is None or not 1000 <= timeout <= 30000:
        raise bad("dataSources", {"timeoutMs": ["Ensure this value is between 1000 and 30000."]})
    size = len(f"{query['method']} {url}") + sum(len(k) + len(v) for k, v in headers) + \
        len(query.get("body") or "")
    if size > 1000:
        raise bad("dataSources", "Request is too large, max size is 1000 bytes")
    return {"url": url, "method": query["method"], "headers": headers, "body": query["body"],
            "interval_seconds": as_int(query["interval_seconds"]), "timeout_ms": timeout,
            "trace_sampling": bool(query["trace_sampling"]), "assertion": query["assertion"]}


def _cron_source(data: Record, old: Record | None, name: str) -> Record:
    config = {**CRON_DEFAULTS, **((old or {}).get("config") or {}), **(data.get("config") or {})}
    if config.get("schedule_type") not in ("crontab", "interval"):
        raise bad("dataSources", {"config": {"scheduleType": ["This field is required."]}})
    schedule = config.get("schedule")
    if config["schedule_type"] == "crontab" and (
            not isinstance(schedule, str) or len(schedule.split()) != 5):
        raise bad("dataSources", {"config": {"schedule": ["Schedule is invalid"]}})
    if config["schedule_type"] == "interval" and not (
            isinstance(schedule, list) and len(schedule) == 2 and as_int(schedule[0])
            and schedule[1] in ("year", "month", "week", "day", "hour", "minute")):
        raise bad("dataSources", {"config": {"schedule": ["Invalid interval schedule"]}})
    for key, high in (("checkin_margin", 40320), ("max_runtime", 40320),
                      ("failure_issue_threshold", 720), ("recovery_threshold", 720)):
        value, number = config.get(key), as_int(config.get(key))
        if value is not None and not (number is not None and 1 <= number <= high):
            raise bad("dataSources", {"config": {key: [
                f"Ensure this value is between 1 and {high}."]}})
    slug = (old or {}).get("slug") or slugify(str(data.get("name") or name))[:50]
    return {"name": data.get("name") or name, "slug": slug, "config": config}


def _source(store: Store, kind: str, data: Record, old: Record | None, name: str) -> Record:
    if kind == "metric_issue":
        query, source_type = _metric_source(data, old and old["query"]), \
            "snuba_query_subscription"
    elif kind == "uptime_domain_failure":
        query, source_type = _uptime_source(data, old and old["query"]), "uptime_subscription"
    else:
        query, source_type = _cron_source(data, old and old["query"], name), "cron_monitor"
    if old is not None:
        return {**old, "query": query}
    return {"id": store.next_id("data_source"), "type": source_type,
            "sourceId": store.next_id("data_source_object"), "query": query}


def _owner(store: Store, org: Record, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    kind, _, ident = str(raw).partition(":")
    table = {"team": "team", "user": "member"}.get(kind)
    if table is None or not ident.isdigit():
        raise bad("owner", "Could not parse actor. Format should be `type:id` "
                           "where type is `team` or `user`.")
    rows = store.snapshot(table, org["id"])
    if not any((r["id"] if table == "team" else r["userId"]) == int(ident) for r in rows):
        raise bad("owner", f"{kind.title()} does not exist")
    return f"{kind}:{ident}"


def _config(kind: str, raw: Any, old: Record | None) -> Record:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad("config", "Expected a dictionary of items.")
    if kind == "metric_issue":
        config = {"detection_type": "static", "comparison_delta": None, **raw}
        if config["detection_type"] not in ("static", "percent", "dynamic"):
            raise bad("config", f"Invalid detectionType {config['detection_type']!r}")
        if config["detection_type"] == "percent" and as_int(config["comparison_delta"]) not in (
                300, 900, 3600, 86400, 604800, 2592000):
            raise bad("config", "comparisonDelta must be one of 300, 900, 3600, 86400, "
                                "604800, 2592000 seconds for percent detection")
        return config
    if kind == "uptime_domain_failure":
        config = {"mode": 1, "environment": None, "downtime_threshold": 3,
                  "recovery_threshold": 1, **(old or {}), **raw}
        if config["mode"] not in (1, 2, 3):
            raise bad("config", "mode must be 1, 2 or 3")
        return config
    return dict(raw)


def validate(store: Store, org: Record, project: Record, body: Record, old: Record | None) -> Record:
    """A stored detector record from a request (POST: `old` None; PUT: partial)."""
    kind = body.get("type", old["type"] if old else None)
    if old is not None and kind != old["type"]:
        raise bad("type", "Detector type cannot be changed")
    if kind in SYSTEM_TYPES and old is None:
        raise bad("type", "Detector type not compatible with detectors")
    if kind not in USER_TYPES and kind not in SYSTEM_TYPES:
        raise bad("type", f"Unknown detector type '{kind}'. Must be one of: "
                          f"{', '.join(USER_TYPES)}")
    record = dict(old) if old else {"type": kind, "projectId": project["id"], "enabled": True,
                                    "description": None, "owner": None, "config": {},
                                    "alertRuleId": None, "ruleId": None}
    if "name" in body or old is None:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise bad("name", "This field is required." if not name
                      else "Ensure this field has no more than 200 characters.")
        record["name"] = name
    if "description" in body:
        record["description"] = body["description"]
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise bad("enabled", "Must be a valid boolean.")
        record["enabled"] = body["enabled"]
    if "owner" in body:
        record["owner"] = _owner(store, org, body["owner"])
    if kind in SYSTEM_TYPES:
        return record
    if "config" in body or old is None:
        record["config"] = _config(kind, body.get("config"), old and old["config"])
    if "data_sources" in body or old is None:
        record["dataSource"] = _source(store, kind, _one_source(body),
                                       old and old["dataSource"], record["name"])
    if kind == "uptime_domain_failure":
        if old is None:  # generated by the server, whatever the client sends
            record["conditionGroup"] = {
                "id": store.next_id("dcg"), "logic_type": "any", "actions": [],
                "conditions": [{"id": store.next_id("data_condition"), "type": t,
                                "comparison": c, "condition_result": r}
                               for t, c, r in UPTIME_GROUP]}
    elif kind == "monitor_check_in_failure":
        record.setdefault("conditionGroup", None)
    else:
        record["conditionGroup"] = _metric_group(store, org, body, old)
    return record


def _metric_group(store: Store, org: Record, body: Record, old: Record | None) -> Record:
    group = body.get("condition_group")
    if old is not None and (not isinstance(group, dict) or not group.get("conditions")):
        kept: Record = old["conditionGroup"]  # a PUT changes it only with a non-empty list
        return kept
    if not isinstance(group, dict) or not group.get("conditions"):
        raise bad("conditionGroup", {"conditions": ["At least one condition is required."]})
    if old is None:
        group = {**group, "logic_type": "any"}  # created with "any" whatever is sent
    built = build_group(store, org, group, "conditionGroup", allowed=METRIC_CONDITIONS,
                        existing=old and old["conditionGroup"], with_actions=False)
    for condition in built["conditions"]:
        if condition["condition_result"] not in (0, 25, 50, 75):
            raise bad("conditionGroup", "Unsupported condition result")
        if condition["type"] != "anomaly_detection" and not isinstance(
                condition["comparison"], (int, float)):
            raise bad("conditionGroup", {"comparison": ["A valid number is required."]})
    return built


# ---- responses ---------------------------------------------------------------------------

def _owner_object(store: Store, org: Record, owner: str | None) -> Record | None:
    if not owner:
        return None
    kind, _, ident = owner.partition(":")
    if kind == "team":
        team = next((t for t in store.snapshot("team", org["id"]) if t["id"] == int(ident)), None)
        return {"type": "team", "id": ident, "name": team["slug"] if team else ""}
    member = next((m for m in store.snapshot("member", org["id"])
                   if m["userId"] == int(ident)), None)
    return {"type": "user", "id": ident, "name": member["name"] if member else "",
            "email": member["email"] if member else ""}


def _query_obj(source: Record, org: Record, fresh: bool) -> Record:
    query = source["query"]
    if source["type"] == "snuba_query_subscription":
        return {"id": str(source["sourceId"]), "status": 1 if fresh else 0,
                "subscription": None if fresh else f"{org['id'] % 100}/{source['sourceId']}",
                "snubaQuery": {"id": str(source["sourceId"]), **camel(
                    {k: v for k, v in query.items() if k != "event_types"}),
                    "eventTypes": list(reversed(query["event_types"]))}}
    if source["type"] == "uptime_subscription":
        return {"id": str(source["sourceId"]), **camel(query)}
    return {"id": str(source["sourceId"]), "slug": query["slug"], "name": query["name"],
            "status": "active", "isMuted": False, "config": dict(query["config"])}


def serialize(store: Store, org: Record, record: Record, *, fresh: bool = False) -> Record:
    source = record.get("dataSource")
    return {
        "id": str(record["id"]), "projectId": str(record["projectId"]), "name": record["name"],
        "description": record["description"], "type": record["type"],
        "workflowIds": [str(r["workflowId"]) for r in links(store, org)
                        if r["detectorId"] == record["id"]],
        "owner": _owner_object(store, org, record["owner"]),
        "createdBy": None if record.get("createdBy") is None else str(record["createdBy"]),
        "dateCreated": record["dateCreated"], "dateUpdated": record["dateUpdated"],
        "dataSources": None if source is None else [{
            "id": str(source["id"]), "organizationId": str(org["id"]), "type": source["type"],
            "sourceId": str(source["sourceId"]), "queryObj": _query_obj(source, org, fresh)}],
        "conditionGroup": serialize_group(record.get("conditionGroup"), org),
        "config": camel(record["config"]), "enabled": record["enabled"],
        "alertRuleId": record["alertRuleId"], "ruleId": record["ruleId"],
        "latestGroup": None, "openIssues": 0,
    }


# ---- handlers ----------------------------------------------------------------------------

def visible(store: Store, org: Record) -> list[Record]:
    ensure_system_detectors(store, org)
    return sorted(store.snapshot(KIND, org["id"]), key=lambda d: d["id"])


def _matching(request: Request, store: Store, org: Record) -> list[Record]:
    params = request.query_params
    rows = visible(store, org)
    ids = params.getlist("id")
    if ids:
        wanted = {as_int(i) for i in ids}
        if None in wanted:
            raise bad("id", "Invalid ID format")
        return [d for d in rows if d["id"] in wanted]
    projects = [p for p in params.getlist("project") if p != "-1"]
    if projects:
        known = {str(p["id"]): p["id"] for p in store.snapshot("project", org["id"])}
        rows = [d for d in rows if str(d["projectId"]) in projects and str(d["projectId"]) in known]
    for term in (params.get("query") or "").split():
        key, sep, value = term.partition(":")
        if sep and key == "type":
            kind = TYPE_ALIASES.get(value, value)
            rows = [d for d in rows if d["type"] == kind]
        elif sep and key == "name":
            rows = [d for d in rows if value.lower() in d["name"].lower()]
        elif not sep:
            rows = [d for d in rows if term.lower() in d["name"].lower()
                    or term.lower() in (d.get("description") or "").lower()
                    or term.lower() in d["type"]]
    return rows


def _sorted(request: Request, rows: list[Record]) -> list[Record]:
    field = request.query_params.get("sortBy") or "id"
    key = field.lstrip("-")
    keys = {"id": lambda d: d["id"], "name": lambda d: d["name"].lower(),
            "type": lambda d: d["type"], "connectedWorkflows": lambda d: d["id"],
            "latestGroup": lambda d: d["id"], "openIssues": lambda d: d["id"]}
    if key not in keys:
        raise bad("sortBy", "Invalid sort field")
    return sorted(rows, key=keys[key], reverse=field.startswith("-"))


def require_filter(request: Request) -> None:
    """Bulk PUT/DELETE act on what the filters match: at least one filter is required."""
    if not any(request.query_params.get(k) for k in ("id", "query", "project", "projectSlug")):
        raise ApiError(400, {"detail": "At least one of 'id', 'query', 'project', or "
                                       "'projectSlug' must be provided."})


async def detector_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "GET":
        rows = _sorted(request, _matching(request, store, org))
        page = offset_page(request, lambda off, lim: rows[off:off + lim], hits=len(rows))
        return json_response([serialize(store, org, d) for d in page.items], 200, page.headers)
    require_filter(request)
    rows = _matching(request, store, org)
    asked = {as_int(i) for i in request.query_params.getlist("id")}
    verb = "update" if request.method == "PUT" else "delete"
    if asked and asked != {d["id"] for d in rows}:
        raise ApiError(400, {"detail": "Some detectors were not found or you do not have "
                                       f"permission to {verb} them."})
    if not rows:
        return json_response({"detail": "No detectors found."})
    if request.method == "DELETE":
        if any(d["type"] in SYSTEM_TYPES for d in rows):
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})
        for record in rows:
            remove(store, org, record)
        return json_response(None, 204)
    body = convert_keys(await read_object(request))
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise bad("enabled", "Must be a valid boolean.")
    with store.transaction():
        for record in rows:
            store.put(KIND, {**record, "enabled": enabled, "dateUpdated": now_iso()})
    fresh = [store.get(KIND, d["id"]) for d in rows]
    return json_response([serialize(store, org, d) for d in fresh if d is not None])


def remove(store: Store, org: Record, record: Record) -> None:
    with store.transaction():
        for row in [r for r in links(store, org) if r["detectorId"] == record["id"]]:
            store.delete(LINK, row["id"])
        for row in store.snapshot("alert_rule_detector", org["id"]):
            if row["detectorId"] == record["id"]:
                store.delete("alert_rule_detector", row["id"])
        store.delete(KIND, record["id"])
        store.audit(org["id"], actor=None, event="detector.remove", target=record["id"],
                    data={"name": record["name"]})


def save(store: Store, org: Record, record: Record, actor: Record | None) -> Record:
    record["dateUpdated"] = now_iso()
    with store.transaction():
        if "id" in record:
            store.put(KIND, record)
        else:
            record["dateCreated"] = record["dateUpdated"]
            record["createdBy"] = actor["id"] if actor else None
            store.insert(KIND, org["id"], record, scope=str(record["projectId"]))
    return record


async def _create(request: Request, org: Record, project: Record) -> Response:
    store = store_of(request)
    body = convert_keys(await read_object(request))
    record = validate(store, org, project, body, None)
    saved = save(store, org, record, actor_of(request))
    if "workflow_ids" in body and "project" not in request.path_params:
        # only the org-level POST reads workflowIds (REFERENCE-workflows.md §2.7)
        ids = check_ids(store, org, "workflow", body["workflow_ids"], "workflowIds", "workflows")
        set_links(store, org, detector=saved["id"], others=ids)
    return json_response(serialize(store, org, saved, fresh=True), 201)


async def project_detector_create(request: Request) -> Response:
    org = org_of(request)
    return await _create(request, org, project_of(request, org))


async def detector_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    ensure_system_detectors(store, org)
    record = store.get(KIND, request.path_params["detector_id"], org=org["id"])
    if record is None:
        raise not_found()
    if request.method == "GET":
        return json_response(serialize(store, org, record))
    if request.method == "DELETE":
        if record["type"] in SYSTEM_TYPES:
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})
        remove(store, org, record)
        return json_response(None, 204)
    body = convert_keys(await read_object(request))
    project = store.get("project", record["projectId"])
    updated = validate(store, org, project or {"id": record["projectId"]}, body,
                       json.loads(json.dumps(record)))
    with store.transaction():
        saved = save(store, org, updated, actor_of(request))
        if "workflow_ids" in body:
            ids = check_ids(store, org, "workflow", body["workflow_ids"], "workflowIds",
                            "workflows")
            set_links(store, org, detector=saved["id"], others=ids)
    return json_response(serialize(store, org, saved))


ROUTES = [
    ("/organizations/{org}/detectors/", ["GET", "PUT", "DELETE"], detector_index),
    ("/organizations/{org}/detectors/{detector_id}/", ["GET", "PUT", "DELETE"],
     detector_detail),
    ("/organizations/{org}/projects/{project}/detectors/", ["POST"], project_detector_create),
]
