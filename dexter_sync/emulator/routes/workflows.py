"""Workflows ("Alerts", REFERENCE-workflows.md §1-3): list with filters and project
visibility, create, full-object PUT with Sentry's nested id diff, delete, bulk
enable/delete, and the legacy-rule mapping look-ups (`alert-rule-workflow`,
`alert-rule-detector`).

A PUT is not partial: `enabled` falls back to true and `config` to `{}` when left out;
`triggers`/`actionFilters` left out keep their groups, sent without ids they are recreated
(new ids), and `detectorIds` replaces the workflow's side of the link table.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, actor_of, json_response, not_found, org_of, read_object, store_of
from ..pagination import offset_page
from ..routing import Handler
from ..store import Store, now_iso
from ..validation.fields import convert_keys
from .condition_groups import (
    FILTER_TYPES,
    OPERATOR_TYPES,
    TRIGGER_TYPES,
    as_int,
    build_group,
    camel,
    serialize_group,
)
from .detectors import (
    bad,
    check_ids,
    ensure_system_detectors,
    links,
    require_filter,
    set_links,
)

KIND = "workflow"
MAX_FREQUENCY = 43200

Record = dict[str, Any]
"""A stored record or a JSON object."""


def _environment(store: Store, org: Record, raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not any(e["name"] == raw for e in store.snapshot("environment", org["id"])):
        raise bad("environment", f"Environment {raw!r} does not exist")
    return str(raw)


def _config(raw: Any) -> Record:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"frequency"}:
        raise bad("config", "Additional properties are not allowed")
    frequency = raw.get("frequency")
    if frequency is not None and (as_int(frequency) is None or not
                                  0 <= as_int(frequency) <= MAX_FREQUENCY):  # type: ignore[operator]
        raise bad("config", f"frequency must be minutes between 0 and {MAX_FREQUENCY}")
    return {"frequency": as_int(frequency)} if frequency is not None else {}


def _filters(store: Store, org: Record, raw: Any, old: list[Record]) -> list[Record]:
    if not isinstance(raw, list):
        raise bad("actionFilters", "Expected a list of items.")
    by_id = {g["id"]: g for g in old}
    out = []
    for index, group in enumerate(raw):
        ident = group.get("id") if isinstance(group, dict) else None
        existing = None
        if ident is not None:
            existing = by_id.get(as_int(ident))
            if existing is None:
                raise bad("actionFilters", f"Action filter ID {ident} does not belong to "
                                           "this workflow")
        out.append(build_group(store, org, group, f"actionFilters[{index}]",
                               allowed=FILTER_TYPES | OPERATOR_TYPES, existing=existing,
                               with_actions=True))
    return out


def validate(store: Store, org: Record, body: Record, old: Record | None) -> Record:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "This field is required.")
    if len(name) > 256:
        raise bad("name", "Ensure this field has no more than 256 characters.")
    enabled = body.get("enabled", True)  # PUT is not partial: a missing value re-defaults
    if not isinstance(enabled, bool):
        raise bad("enabled", "Must be a valid boolean.")
    record: dict[str, Any] = dict(old) if old else {"lastTriggered": None}
    record.update(name=name, enabled=enabled, config=_config(body.get("config")),
                  environment=_environment(store, org, body.get("environment")),
                  owner=body.get("owner"))
    if "triggers" in body or old is None:
        triggers = body.get("triggers")
        if triggers is None:
            raise bad("triggers", "This field is required.")
        if old is not None and isinstance(triggers, dict) and triggers.get("id") is not None \
                and as_int(triggers["id"]) != old["triggers"]["id"]:
            raise bad("triggers", f"Invalid Condition Group ID {triggers['id']}")
        record["triggers"] = build_group(
            store, org, triggers, "triggers", allowed=TRIGGER_TYPES,
            existing=old["triggers"] if old else None, with_actions=False)
    if "action_filters" in body or old is None:
        record["actionFilters"] = _filters(store, org, body.get("action_filters", []),
                                           old["actionFilters"] if old else [])
    return record


def detector_ids(store: Store, org: Record, workflow_id: int) -> list[int]:
    return [r["detectorId"] for r in links(store, org) if r["workflowId"] == workflow_id]


def serialize(store: Store, org: Record, record: Record) -> Record:
    return {
        "id": str(record["id"]), "name": record["name"], "organizationId": str(org["id"]),
        "createdBy": None if record.get("createdBy") is None else str(record["createdBy"]),
        "dateCreated": record["dateCreated"], "dateUpdated": record["dateUpdated"],
        "triggers": serialize_group(record["triggers"], org),
        "actionFilters": [serialize_group(g, org) for g in reversed(record["actionFilters"])],
        "environment": record["environment"], "config": camel(record["config"]),
        "detectorIds": [str(i) for i in reversed(detector_ids(store, org, record["id"]))],
        "enabled": record["enabled"], "lastTriggered": record["lastTriggered"],
        "owner": record.get("owner"),
    }


def save(store: Store, org: Record, record: Record, actor: Record | None,
         detectors: list[int] | None) -> Record:
    record["dateUpdated"] = now_iso()
    with store.transaction():
        if "id" in record:
            store.put(KIND, record)
            event = "workflow.edit"
        else:
            record["dateCreated"] = record["dateUpdated"]
            record["createdBy"] = actor["id"] if actor else None
            store.insert(KIND, org["id"], record)
            event = "workflow.add"
        if detectors is not None:
            set_links(store, org, workflow=record["id"], others=detectors)
        store.audit(org["id"], actor=actor, event=event, target=record["id"],
                    data={"name": record["name"]})
    return record


def _matching(request: Request, store: Store, org: Record) -> list[Record]:
    params = request.query_params
    ensure_system_detectors(store, org)
    rows = sorted(store.snapshot(KIND, org["id"]), key=lambda w: w["id"])
    ids = params.getlist("id")
    if ids:
        wanted = {as_int(i) for i in ids}
        if None in wanted:
            raise bad("id", "Invalid ID format")
        rows = [w for w in rows if w["id"] in wanted]
    detectors = {as_int(d) for d in params.getlist("detector")}
    if detectors:
        rows = [w for w in rows if detectors & set(detector_ids(store, org, w["id"]))]
    projects = [p for p in params.getlist("project") + params.getlist("projectSlug")
                if p != "-1"]
    if projects and not ids:  # a project filter leaves detached workflows out
        by_ref = {ref: p["id"] for p in store.snapshot("project", org["id"])
                  for ref in (str(p["id"]), p["slug"])}
        wanted_projects = {by_ref.get(p) for p in projects}
        in_project = {d["id"] for d in store.snapshot("detector", org["id"])
                      if d["projectId"] in wanted_projects}
        rows = [w for w in rows if in_project & set(detector_ids(store, org, w["id"]))]
    for term in (params.get("query") or "").split():
        key, sep, value = term.partition(":")
        if sep and key == "name":
            rows = [w for w in rows if value.lower() in w["name"].lower()]
        elif sep and key == "action":
            rows = [w for w in rows if any(a["type"] == value for g in w["actionFilters"]
                                           for a in g["actions"])]
        elif not sep:
            rows = [w for w in rows if term.lower() in w["name"].lower()]
    return rows


async def workflow_index(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    if request.method == "GET":
        rows = _matching(request, store, org)
        field = request.query_params.get("sortBy") or "id"
        keys = {"id": lambda w: w["id"], "name": lambda w: w["name"].lower(),
                "dateCreated": lambda w: w["dateCreated"],
                "dateUpdated": lambda w: w["dateUpdated"]}
        rows = sorted(rows, key=keys.get(field.lstrip("-"), keys["id"]),
                      reverse=field.startswith("-"))
        page = offset_page(request, lambda off, lim: rows[off:off + lim], hits=len(rows))
        return json_response([serialize(store, org, w) for w in page.items], 200, page.headers)
    if request.method == "POST":
        body = convert_keys(await read_object(request))
        record = validate(store, org, body, None)
        ids = check_ids(store, org, "detector", body.get("detector_ids", []), "detectorIds",
                        "detectors")
        saved = save(store, org, record, actor_of(request), ids)
        return json_response(serialize(store, org, saved), 201)
    require_filter(request)
    rows = _matching(request, store, org)
    asked = {as_int(i) for i in request.query_params.getlist("id")}
    if asked and asked != {w["id"] for w in rows}:
        raise ApiError(403, {"detail": "You do not have permission to perform this action."})
    if not rows:
        return json_response({"detail": "No workflows found."})
    if request.method == "DELETE":
        for record in rows:
            remove(store, org, record)
        return json_response(None, 204)
    body = convert_keys(await read_object(request))
    if not isinstance(body.get("enabled"), bool):
        raise bad("enabled", "This field is required.")
    with store.transaction():
        for record in rows:
            store.put(KIND, {**record, "enabled": body["enabled"], "dateUpdated": now_iso()})
    fresh = [store.get(KIND, w["id"]) for w in rows]
    return json_response([serialize(store, org, w) for w in fresh if w is not None])


def remove(store: Store, org: Record, record: Record) -> None:
    with store.transaction():
        set_links(store, org, workflow=record["id"], others=[])
        for row in store.snapshot("alert_rule_workflow", org["id"]):
            if row["workflowId"] == record["id"]:
                store.delete("alert_rule_workflow", row["id"])
        store.delete(KIND, record["id"])
        store.audit(org["id"], actor=None, event="workflow.remove", target=record["id"],
                    data={"name": record["name"]})


async def workflow_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    raw_id = request.path_params["workflow_id"]
    record = store.get(KIND, raw_id, org=org["id"]) if raw_id.isdigit() else None
    if record is None:
        raise not_found()
    if request.method == "GET":
        return json_response(serialize(store, org, record))
    if request.method == "DELETE":
        remove(store, org, record)
        return json_response(None, 204)
    body = convert_keys(await read_object(request))
    updated = validate(store, org, body, json.loads(json.dumps(record)))
    ids = None
    if "detector_ids" in body:
        ids = check_ids(store, org, "detector", body["detector_ids"], "detectorIds", "detectors")
    saved = save(store, org, updated, actor_of(request), ids)
    return json_response(serialize(store, org, saved))


def _mapping(table: str, target: str) -> Handler:
    async def handler(request: Request) -> Response:
        org, store = org_of(request), store_of(request)
        params = request.query_params
        wanted = {key: as_int(params[param]) for key, param in (
            ("ruleId", "rule_id"), ("alertRuleId", "alert_rule_id"), (target, target_param))
            if params.get(param)}
        if not wanted:
            raise ApiError(400, {"detail": "One of 'rule_id', 'alert_rule_id' or "
                                           f"'{target_param}' must be provided."})
        row = next((r for r in store.snapshot(table, org["id"])
                    if all(r.get(k) == v for k, v in wanted.items())), None)
        if row is None:
            raise not_found()
        return json_response({k: None if row.get(k) is None else str(row[k])
                              for k in ("ruleId", "alertRuleId", target)})

    target_param = "workflow_id" if target == "workflowId" else "detector_id"
    handler.__name__ = f"{table}_lookup"
    return handler


ROUTES = [
    ("/organizations/{org}/workflows/", ["GET", "POST", "PUT", "DELETE"], workflow_index),
    ("/organizations/{org}/workflows/{workflow_id}/", ["GET", "PUT", "DELETE"], workflow_detail),
    ("/organizations/{org}/alert-rule-workflow/", ["GET"],
     _mapping("alert_rule_workflow", "workflowId")),
    ("/organizations/{org}/alert-rule-detector/", ["GET"],
     _mapping("alert_rule_detector", "detectorId")),
]
