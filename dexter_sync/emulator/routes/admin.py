"""Admin endpoints under `/__emulator__/` (same token, no rate limit, no faults): faults,
rate limits, quirks, counters, bulk seeding, out-of-band changes, names, incidents
(open/resolve), route holds, reset."""

from __future__ import annotations

import copy
import re
from dataclasses import fields
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, read_object, store_of
from ..config import settings_dict, update_settings
from ..routing import Handler
from ..seeding import ensure_project, find_by, find_org
from ..store import Store, now_iso
from ..validation.fields import convert_keys
from . import incidents, issue_alerts, metric_alerts

UI_USER = {"type": "user", "id": 999, "name": "ui-user", "email": "ui-user@example.com"}
OOB_KINDS = {"metric_rule", "issue_rule", "saved_query", "release", "code_mapping", "repo",
             "project", "team", "integration"}


def copy_settings(source: Any, target: Any) -> None:
    """Make `target` (live settings, shared with the limiter/injector) equal `source`."""
    for item in fields(source):
        setattr(target, item.name, copy.deepcopy(getattr(source, item.name)))


def _settings_endpoint(attr: str) -> Handler:
    async def handler(request: Request) -> Response:
        config = request.app.state.config
        settings = getattr(config, attr)
        if request.method == "PUT":
            changes = await read_object(request)
            if changes.pop("reset", False):
                copy_settings(type(settings)(), settings)
            try:
                unknown = update_settings(settings, changes)
            except ValueError as exc:
                raise ApiError(400, {"detail": str(exc)}) from None
            if unknown:
                raise ApiError(400, {"detail": f"unknown settings: {', '.join(unknown)}"})
            if attr == "rate_limit":
                request.app.state.limiter.reset()
            if attr == "faults":
                request.app.state.faults.reseed()
        return json_response(settings_dict(settings))

    handler.__name__ = f"{attr}_settings"
    return handler


async def counters(request: Request) -> Response:
    if request.method == "DELETE":
        request.app.state.counters.reset()
        return json_response(None, 204)
    return json_response(request.app.state.counters.snapshot())


def _org(request: Request) -> dict[str, Any]:
    config = request.app.state.config
    org = find_org(store_of(request), config.organization)
    if org is None:
        raise ApiError(404, {"detail": "organization missing"})
    return org


def _count(body: dict[str, Any], key: str, high: int = 100_000) -> int:
    value = body.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise ApiError(400, {key: [f"must be an integer 0..{high}"]})
    return value


async def seed(request: Request) -> Response:
    """N metric rules + M issue rules over P projects + Q saved queries, deterministic."""
    body = await read_object(request)
    store, org = store_of(request), _org(request)
    n_metric, n_issue = _count(body, "metric_rules"), _count(body, "issue_rules")
    n_projects, n_queries = max(_count(body, "projects", 1000), 1), _count(body, "saved_queries")
    with store.transaction():
        projects = [ensure_project(store, org, f"seed-{i:03d}")[0] for i in range(n_projects)]
        for i in range(n_metric):
            store.insert("metric_rule", org["id"], _metric(store, i, projects[i % n_projects]),
                         scope=str(projects[i % n_projects]["id"]))
        for i in range(n_issue):
            project = projects[i % n_projects]
            store.insert("issue_rule", org["id"], _issue(i, project),
                         scope=str(project["id"]))
        for i in range(n_queries):
            store.insert("saved_query", org["id"], {
                "name": f"seed query {i:05d}", "projects": [], "version": 2,
                "queryDataset": "error-events", "fields": ["title", "count()"],
                "query": f"seed:{i}", "range": "24h", "dateCreated": now_iso(),
                "dateUpdated": now_iso(), "createdBy": None})
        store.audit(org["id"], actor={"type": "system", "name": "emulator"},
                    event="emulator.seed", target=None, data=body)
    return json_response({"projects": [p["slug"] for p in projects], "metric_rules": n_metric,
                          "issue_rules": n_issue, "saved_queries": n_queries}, 201)


def _metric(store: Store, i: int, project: dict[str, Any]) -> dict[str, Any]:
    ts = now_iso()
    return {"name": f"seed metric rule {i:05d}", "aggregate": "count()", "query": "",
            "timeWindow": 60, "thresholdType": 0, "thresholdPeriod": 1, "dataset": "events",
            "queryType": 0, "environment": None, "resolveThreshold": None,
            "comparisonDelta": None, "owner": None, "description": "",
            "detectionType": "static", "sensitivity": None, "seasonality": None,
            "eventTypes": ["error"], "projects": [project["id"]], "dateCreated": ts,
            "dateModified": ts, "createdBy": None,
            "triggers": [{"id": store.next_id("trigger"), "label": "critical",
                          "alertThreshold": float(100 + i), "dateCreated": ts,
                          "actions": [{"id": store.next_id("action"), "type": "email",
                                       "targetType": "team", "targetIdentifier": "1000",
                                       "inputChannelId": None, "integrationId": None,
                                       "sentryAppId": None, "priority": None,
                                       "dateCreated": ts}]}]}


def _issue(i: int, project: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"seed issue rule {i:05d}", "actionMatch": "all", "filterMatch": None,
            "frequency": 30, "environment": None, "owner": None, "projectId": project["id"],
            "conditions": [{"id": "sentry.rules.conditions.event_frequency."
                                  "EventFrequencyCondition", "value": 100 + i,
                            "interval": "1h"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners", "fallthroughType": "ActiveMembers",
                         "uuid": f"00000000-0000-4000-8000-{i:012d}"}],
            "dateCreated": now_iso(), "createdBy": None}


async def oob(request: Request) -> Response:
    """Change an object as a UI user would: `{"kind", "op": create|update|delete, "id",
    "fields", "project"}`; recorded in the audit log with actor "ui-user"."""
    body = await read_object(request)
    store, org = store_of(request), _org(request)
    kind, op = body.get("kind"), body.get("op")
    if kind not in OOB_KINDS or op not in ("create", "update", "delete"):
        raise ApiError(400, {"detail": f"kind must be one of {sorted(OOB_KINDS)}, op one of "
                                       "create/update/delete"})
    fields = body.get("fields") or {}
    if not isinstance(fields, dict):
        raise ApiError(400, {"fields": ["must be an object"]})
    if op == "create":
        return json_response(_oob_create(request, store, org, kind, fields, body), 201)
    record = store.get(kind, body.get("id") or "", org=org["id"])
    if record is None:
        raise ApiError(404, {"detail": f"no {kind} with id {body.get('id')!r}"})
    if op == "delete":
        with store.transaction():
            store.delete(kind, record["id"])
            store.audit(org["id"], actor=UI_USER, event=f"{kind}.remove", target=record["id"],
                        data={"name": record.get("name")})
        return json_response({"deleted": record["id"]})
    _check_update(record, fields)
    with store.transaction():
        record.update(fields)
        if "dateModified" in record:
            record["dateModified"] = now_iso()
        store.put(kind, record)
        store.audit(org["id"], actor=UI_USER, event=f"{kind}.edit", target=record["id"],
                    data={"name": record.get("name"), "fields": sorted(fields)})
    return json_response(record)


def _oob_create(request: Request, store: Store, org: dict[str, Any], kind: str, fields: dict[str, Any],
                body: dict[str, Any]) -> dict[str, Any]:
    quirks = request.app.state.config.quirks
    if kind == "metric_rule":
        from ..validation import metric_rules
        rule, lookups = metric_rules.validate_rule(store, org, convert_keys(fields),
                                                   partial_of=None)
        for lookup in lookups:
            metric_rules.resolve_slack(store, org, lookup)
        return metric_alerts.save_rule(store, org, rule, None, UI_USER)
    if kind == "issue_rule":
        from ..validation import issue_rules
        project = find_by(store, "project", org, body.get("project") or "", "slug")
        if project is None:
            raise ApiError(400, {"project": ["unknown project"]})
        rule, lookups = issue_rules.validate_rule(store, org, project, fields, quirks)
        for lookup in lookups:
            issue_rules.resolve_slack(store, org, lookup)
        return issue_alerts.save_rule(store, org, project, rule, None, UI_USER)
    if kind == "saved_query":
        from .discover import KIND, validate
        rec = validate(store, org, fields)
        rec.update(dateCreated=now_iso(), createdBy=None)
        rec["dateUpdated"] = rec["dateCreated"]
        with store.transaction():
            record = store.insert(KIND, org["id"], rec)
            store.audit(org["id"], actor=UI_USER, event="discoversavedquery.add",
                        target=record["id"], data={"name": record["name"]})
        return record
    if kind in _NAMED_CREATES:
        return _create_named(store, org, kind, fields)
    raise ApiError(400, {"detail": f"the admin route cannot create a {kind}: create it through "
                                   "the API as Sentry's UI would"})


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
_NAMED_CREATES = {"project", "team", "integration", "repo"}
_PROTECTED = {"id", "dateCreated", "organizationId"}
"""Server-owned fields an out-of-band update may not set."""


def _text(fields: dict[str, Any], name: str, *, pattern: re.Pattern[str] | None = None
          ) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, {name: ["This field is required."]})
    if pattern is not None and not pattern.match(value):
        raise ApiError(400, {name: [f"Enter a valid slug matching {pattern.pattern}."]})
    return value


def _create_named(store: Store, org: dict[str, Any], kind: str,
                   fields: dict[str, Any]) -> dict[str, Any]:
    """Projects, teams, integrations and repositories, made as Sentry makes them (every
    server field filled), from validated fields."""
    if kind in ("project", "team"):
        slug = _text(fields, "slug", pattern=_SLUG)
        names: dict[str, Any] = {f"{kind}s": [slug]}
        ref, key = slug, "slug"
    elif kind == "integration":
        provider, name = _text(fields, "provider"), _text(fields, "name")
        names, ref, key = {"integrations": [(provider, name)]}, name, "name"
    else:
        name = _text(fields, "name")
        integration = fields.get("integration")
        if integration is not None and not isinstance(integration, str):
            raise ApiError(400, {"integration": ["must be an integration name"]})
        names, ref, key = {"repositories": [(name, integration)]}, name, "name"
    try:
        store.ensure_names(org["slug"], **names)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, {"detail": str(exc)}) from None
    record = find_by(store, kind, org, ref, key)
    assert record is not None  # ensure_names just made it
    return record


def _check_update(record: dict[str, Any], fields: dict[str, Any]) -> None:
    """An out-of-band edit keeps the object readable: no server-owned field, and no field
    changed to another JSON type (a number stays a number, a list a list)."""
    errors: dict[str, list[str]] = {}
    for name, value in fields.items():
        old = record.get(name)
        if name in _PROTECTED:
            errors[name] = ["This field is set by the server."]
        elif old is not None and not _same_type(old, value):
            errors[name] = [f"Expected {type(old).__name__}, got {type(value).__name__}."]
    if errors:
        raise ApiError(400, errors)


def _same_type(old: Any, new: Any) -> bool:
    numbers = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, numbers):
        return isinstance(new, numbers)
    return new is None or isinstance(new, type(old))
async def incident_switch(request: Request) -> Response:
    """A metric alert fires or ends, as Sentry's subscription processor would decide:
    `{"action": "open", "rule": name|id, "status": 20|10}` opens an incident (the open one
    if the rule has it), `{"action": "resolve", "identifier": "1"}` closes it."""
    body = await read_object(request)
    store, org = store_of(request), _org(request)
    action = body.get("action")
    if action == "open":
        incident = incidents.open_incident(store, org, str(body.get("rule", "")),
                                           status=body.get("status", incidents.CRITICAL))
    elif action == "resolve":
        incident = incidents.resolve_incident(store, org, str(body.get("identifier", "")))
    else:
        raise ApiError(400, {"action": ["must be open or resolve"]})
    return json_response(incidents.serialize(store, org, incident, activities=True), 200)


async def names(request: Request) -> Response:
    """`POST {"projects": [...], "teams": [...], ...}`: the seeding API of ensure_names."""
    body = await read_object(request)
    converted = {k: [tuple(v) if isinstance(v, list) else v for v in vals]
                 for k, vals in body.items() if isinstance(vals, list)}
    try:
        created = store_of(request).ensure_names(request.app.state.config.organization,
                                                 **converted)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, {"detail": str(exc)}) from None
    return json_response(created)


async def holds(request: Request) -> Response:
    """PUT sets a hold (see holds.py), DELETE releases what it holds, GET shows the counts."""
    route_holds = request.app.state.holds
    if request.method == "PUT":
        try:
            route_holds.set(await read_object(request))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, {"detail": str(exc)}) from None
    elif request.method == "DELETE":
        route_holds.release()
    return json_response(route_holds.snapshot())


async def reset(request: Request) -> Response:
    state = request.app.state
    state.holds.release()
    config = state.config
    store = store_of(request)
    store.wipe()
    store.ensure_names(config.organization, projects=config.projects, teams=config.teams,
                       members=config.members, environments=config.environments)
    for attr, initial in state.initial_settings.items():  # back to the configured settings
        copy_settings(initial, getattr(config, attr))
    state.faults.reseed()
    state.counters.reset()
    state.limiter.reset()
    return json_response({"reset": True})


ROUTES = [
    ("/faults/", ["GET", "PUT"], _settings_endpoint("faults")),
    ("/rate-limits/", ["GET", "PUT"], _settings_endpoint("rate_limit")),
    ("/quirks/", ["GET", "PUT"], _settings_endpoint("quirks")),
    ("/counters/", ["GET", "DELETE"], counters),
    ("/holds/", ["GET", "PUT", "DELETE"], holds),
    ("/seed/", ["POST"], seed),
    ("/oob/", ["POST"], oob),
    ("/names/", ["POST"], names),
    ("/incidents/", ["POST"], incident_switch),
    ("/reset/", ["POST"], reset),
]
