"""Metric-alert incidents (REFERENCE.md §12): the org list (filters `project`, `status`,
`alertRule`, `expand=activities`), the detail by org-scoped `identifier`, its activity list,
and `open_incident` / `resolve_incident`, which the admin switch uses to fire or end one.

An incident is stored as kind "incident" with its activities inline; responses follow
Sentry's IncidentSerializer (`dateClosed` truncated to the minute, `activities` null unless
expanded) and IncidentActivitySerializer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, multi_param, not_found, org_of, store_of
from ..pagination import offset_page
from ..seeding import find_by
from ..store import Store, now_iso
from . import metric_alerts

KIND = "incident"
Record = dict[str, Any]

# Sentry's enums (src/sentry/incidents/models/incident.py)
OPEN, CLOSED, WARNING, CRITICAL = 1, 2, 10, 20
METHOD_RULE_TRIGGERED = 3
TYPE_ALERT_TRIGGERED = 2
ACTIVITY_STATUS_CHANGE, ACTIVITY_DETECTED = 2, 4


def _minute(stamp: str | None) -> str | None:
    """`dateClosed` is served truncated to the minute."""
    if stamp is None:
        return None
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _activity(incident: Record, entry: Record) -> Record:
    return {"id": str(entry["id"]), "incidentIdentifier": str(incident["identifier"]),
            "user": None, "type": entry["type"], "value": entry["value"],
            "previousValue": entry["previousValue"], "comment": None,
            "dateCreated": entry["dateCreated"]}


def serialize(store: Store, org: Record, incident: Record, *, activities: bool = False,
              detail: bool = False) -> Record:
    rule = store.get(metric_alerts.KIND, incident["alertRuleId"])
    known = {p["id"]: p["slug"] for p in store.snapshot("project", org["id"])}
    body: dict[str, Any] = {
        "id": str(incident["id"]), "identifier": str(incident["identifier"]),
        "organizationId": str(org["id"]),
        "projects": sorted(known[p] for p in incident["projects"] if p in known),
        "alertRule": metric_alerts.serialize(store, org, rule) if rule else None,
        "activities": ([_activity(incident, a) for a in incident["activities"]]
                       if activities else None),
        "status": incident["status"], "statusMethod": incident["statusMethod"],
        "type": incident["type"], "title": incident["title"],
        "dateStarted": incident["dateStarted"], "dateDetected": incident["dateDetected"],
        "dateCreated": incident["dateCreated"], "dateClosed": _minute(incident["dateClosed"]),
        "activation": []}
    if detail:
        query = rule["query"] if rule else ""
        body["discoverQuery"] = " ".join(filter(None, ["event.type:error", query]))
    return body


def _expanded(request: Request) -> bool:
    return "activities" in multi_param(request, "expand")


async def incident_list(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    incidents = store.query(KIND, org["id"], descending=True)  # ids follow dateStarted
    projects = {p for p in multi_param(request, "project") if p != "-1"}
    if projects:
        incidents = [i for i in incidents if projects & {str(p) for p in i["projects"]}]
    status = request.query_params.get("status")
    if status == "open":
        incidents = [i for i in incidents if i["status"] != CLOSED]
    elif status == "closed":
        incidents = [i for i in incidents if i["status"] == CLOSED]
    rules = set(multi_param(request, "alertRule"))
    if rules:
        incidents = [i for i in incidents if str(i["alertRuleId"]) in rules]
    page = offset_page(request, lambda off, lim: incidents[off:off + lim],
                       hits=len(incidents))
    expanded = _expanded(request)
    return json_response([serialize(store, org, i, activities=expanded) for i in page.items],
                         headers=page.headers)


def _incident_of(request: Request, org: Record) -> Record:
    ref = request.path_params["identifier"]
    for incident in store_of(request).query(KIND, org["id"]):
        if str(incident["identifier"]) == ref:
            return incident
    raise not_found()


async def incident_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    incident = _incident_of(request, org)
    return json_response(serialize(store, org, incident, activities=_expanded(request),
                                   detail=True))


async def incident_activity(request: Request) -> Response:
    org = org_of(request)
    incident = _incident_of(request, org)
    entries = [_activity(incident, a) for a in reversed(incident["activities"])]
    page = offset_page(request, lambda off, lim: entries[off:off + lim])
    return json_response(page.items, headers=page.headers)


def _add_activity(store: Store, incident: Record, kind: int, value: str | None,
                  previous: str | None) -> None:
    incident["activities"].append({"id": store.next_id("incident_activity"), "type": kind,
                                   "value": value, "previousValue": previous,
                                   "dateCreated": now_iso()})


def open_incident(store: Store, org: Record, rule_ref: str, *, status: int = CRITICAL) -> Record:
    """A metric rule's trigger fires: a new incident with the next org-scoped identifier.
    A rule with an incident still open gets that one back (Sentry keeps one per rule)."""
    rule = find_by(store, metric_alerts.KIND, org, rule_ref, "name")
    if rule is None:
        raise ApiError(400, {"rule": [f"no metric alert rule {rule_ref!r}"]})
    if status not in (WARNING, CRITICAL):
        raise ApiError(400, {"status": ["must be 10 (warning) or 20 (critical)"]})
    existing = store.query(KIND, org["id"])
    for incident in existing:
        if incident["alertRuleId"] == rule["id"] and incident["status"] != CLOSED:
            return incident
    stamp = now_iso()
    incident = {"identifier": max((i["identifier"] for i in existing), default=0) + 1,
                "alertRuleId": rule["id"], "projects": list(rule["projects"]),
                "status": status, "statusMethod": METHOD_RULE_TRIGGERED,
                "type": TYPE_ALERT_TRIGGERED, "title": rule["name"], "dateStarted": stamp,
                "dateDetected": stamp, "dateCreated": stamp, "dateClosed": None,
                "activities": []}
    with store.transaction():
        incident["id"] = store.next_id(KIND)
        _add_activity(store, incident, ACTIVITY_DETECTED, None, None)
        _add_activity(store, incident, ACTIVITY_STATUS_CHANGE, str(status), str(OPEN))
        store.insert(KIND, org["id"], incident)
    return incident


def resolve_incident(store: Store, org: Record, identifier: str) -> Record:
    """The trigger resolves: status 2 (closed), `dateClosed` set, one status-change activity."""
    for incident in store.query(KIND, org["id"]):
        if str(incident["identifier"]) == str(identifier):
            break
    else:
        raise ApiError(404, {"detail": f"no incident {identifier!r}"})
    if incident["status"] == CLOSED:
        return incident
    with store.transaction():
        _add_activity(store, incident, ACTIVITY_STATUS_CHANGE, str(CLOSED),
                      str(incident["status"]))
        incident.update(status=CLOSED, statusMethod=METHOD_RULE_TRIGGERED,
                        dateClosed=now_iso())
        store.put(KIND, incident)
    return incident


ROUTES = [
    ("/organizations/{org}/incidents/", ["GET"], incident_list),
    ("/organizations/{org}/incidents/{identifier}/", ["GET"], incident_detail),
    ("/organizations/{org}/incidents/{identifier}/activity/", ["GET"], incident_activity),
]
