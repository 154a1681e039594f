"""The `alert` kind: a Sentry workflow (organization level; natural key: name).

An alert watches monitors (`monitors:` by name) and projects (`projects:`, each linked
through the project's system `error` detector; `issue_streams:` through its
`issue_stream` detector). Links are written only from the workflow side (`detectorIds`).
`triggers` (when), one action filter written as `filters` + `actions` (or several as
`action_filters`), `frequency` (a duration, sent in minutes).

Updates send the full workflow (a PUT is not partial: `enabled` re-defaults) with the
live nested ids echoed where the desired item matches a live one, so unchanged
conditions, filters and actions keep their ids. A monitor created in the same apply is
planned as `monitor:<name>` in `detectorIds` and resolved to its id before the write
(`resolve_change`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PlainSerializer,
    PlainValidator,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from ...core.changes import ResourceChange
from ...core.diagnostics import DexterError
from ...core.directory import SYSTEM_DETECTOR_TYPES, Detector, Directory
from ...core.requests import ApiRequest, path_segment
from ..base import EntryModel, Finder, ListRequest, ReadContext, Reference, ResourceKind
from ..fields import (
    Owner,
    RuleName,
    actor_refs,
    DURATION_SCHEMA,
    Minutes,
    duration_minutes,
    format_duration,
    owner_friendly,
    owner_refs,
    owner_to_sentry,
    sorted_canonical,
)
from ..registry import register
from .actions import INTEGRATED, PROVIDER, Action, action_friendly, action_match_key, action_payload
from .conditions import (
    FILTER_TYPES,
    TRIGGER_TYPES,
    Filter,
    Trigger,
    condition_canonical,
    condition_form,
    condition_friendly,
)

LOGIC = Literal["any", "any-short", "all", "none"]
MONITOR_KINDS = ("metric_monitor", "uptime_monitor", "cron_monitor")
PLACEHOLDER = "monitor:"


def frequency_minutes(value: float | str) -> float:
    """Minutes of a frequency: a duration, or 0 (act on every event; Sentry's migrated
    metric alerts have it)."""
    if not isinstance(value, bool) and value in (0, "0", "0m"):
        return 0.0
    return duration_minutes(value)


def _read_frequency(value: Any) -> float:
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"a frequency is a duration like '30m' or minutes, got {value!r}")
    return frequency_minutes(value)


def _spelled(minutes: float) -> str | int:
    return format_duration(minutes) if minutes else 0


Frequency = Annotated[float, PlainValidator(_read_frequency),
                      PlainSerializer(_spelled, when_used="json"), WithJsonSchema(DURATION_SCHEMA)]
"""A frequency read once into minutes (0: every event); export writes `30m` (or 0)."""


class ActionFilter(EntryModel):
    """One action filter: conditions that must match, and the actions to run."""

    filter_match: LOGIC = Field("all", description="How `conditions` combine.")
    conditions: list[Filter] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)


class AlertEntry(EntryModel):
    """An alert (Sentry workflow; natural key: name)."""

    name: RuleName
    enabled: StrictBool = True
    environment: str | None = Field(None, description="Environment name; all when absent.")
    frequency: Frequency = Field(30, description="Least time between actions for one "
                                 "issue (sent in minutes; 0: every time).",
                                 json_schema_extra={"default": "30m"})
    owner: Owner | None = Field(None, description="`team:<slug>` or `user:<email>`.")
    monitors: list[str] = Field(default_factory=list, description="Monitor names it watches.")
    projects: list[str] = Field(default_factory=list,
                                description="Projects whose errors it watches (their system "
                                            "`error` monitor).")
    issue_streams: list[str] = Field(default_factory=list,
                                     description="Projects whose every issue it watches "
                                                 "(their system `issue_stream` monitor).")
    triggers: list[Trigger] = Field(default_factory=list,
                                    description="When it runs, e.g. `[first_seen_event]`.")
    trigger_match: LOGIC = Field("any-short", description="How `triggers` combine.")
    filters: list[Filter] = Field(default_factory=list,
                                  description="Conditions of the (single) action filter.")
    filter_match: LOGIC = Field("all", description="How `filters` combine.")
    actions: list[Action] = Field(default_factory=list, description="What it does.")
    action_filters: list[ActionFilter] | None = Field(
        None, description="Several action filters (instead of filters/actions).")

    @model_validator(mode="before")
    @classmethod
    def _sentry_groups(cls, values: Any) -> Any:
        """Sentry's own group forms: `triggers: {logic_type, conditions}` and action filters
        with `logic_type` read as `trigger_match`/`filter_match`."""
        if not isinstance(values, dict):
            return values
        out = dict(values)
        triggers = out.get("triggers")
        if isinstance(triggers, dict):
            logic = triggers.get("logic_type", triggers.get("logicType"))
            if logic is not None and "trigger_match" in out:
                raise ValueError("trigger_match given twice: as a field and in triggers")
            out["triggers"] = triggers.get("conditions") or []
            if logic is not None:
                out["trigger_match"] = logic
        groups = out.get("action_filters")
        if isinstance(groups, list):
            out["action_filters"] = [_filter_group(g) for g in groups]
        return out

    @model_validator(mode="after")
    def _forms(self) -> AlertEntry:
        if self.action_filters is not None and (
                {"filters", "actions", "filter_match"} & self.model_fields_set):
            raise ValueError("write either filters/actions or action_filters, not both")
        minutes = self.frequency
        if abs(minutes - round(minutes)) > 1e-9 or minutes > 43200:
            raise ValueError(f"frequency must be whole minutes up to 30d, got "
                             f"{_spelled(minutes)}")
        return self

    def filter_groups(self) -> list[ActionFilter]:
        if self.action_filters is not None:
            return self.action_filters
        return [ActionFilter(filter_match=self.filter_match, conditions=self.filters,
                             actions=self.actions)]


def _filter_group(group: Any) -> Any:
    if not isinstance(group, dict) or not ({"logic_type", "logicType"} & set(group)):
        return group
    out = {k: v for k, v in group.items() if k not in ("logic_type", "logicType", "id")}
    out["filter_match"] = group.get("logic_type", group.get("logicType"))
    return out


# ---- desired -> request body ---------------------------------------------------------------

def _detector_refs(entry: AlertEntry, directory: Directory) -> list[str]:
    """Detector ids to link; a monitor not live yet stays `monitor:<name>` until apply."""
    ids = [directory.detector_id(name) or PLACEHOLDER + name for name in entry.monitors]
    for slugs, kind in ((entry.projects, "error"), (entry.issue_streams, "issue_stream")):
        ids += [directory.system_detector_id(slug, kind) or f"{kind}:{slug}" for slug in slugs]
    return ids


def build_payload(entry: AlertEntry, directory: Directory) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": entry.name, "enabled": entry.enabled, "environment": entry.environment,
        "config": {"frequency": round(entry.frequency)},
        "triggers": {"logicType": entry.trigger_match, "conditions": [
            condition_form(t, TRIGGER_TYPES, "trigger") for t in entry.triggers]},
        "actionFilters": [
            {"logicType": group.filter_match,
             "conditions": [condition_form(c, FILTER_TYPES, "filter") for c in group.conditions],
             "actions": [action_payload(a, directory) for a in group.actions]}
            for group in entry.filter_groups()],
        "detectorIds": _detector_refs(entry, directory),
    }
    if "owner" in entry.model_fields_set:
        body["owner"] = owner_to_sentry(entry.owner, directory)
    return body


def _canonical_body(body: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """Comparison form of a request body or a live workflow, in manifest terms."""
    monitors, projects, streams = [], [], []
    for ident in body.get("detectorIds") or []:
        text = str(ident)
        found: Detector | None = directory.detectors.get(text)
        if found is not None and found.type == "error":
            projects.append(found.project or f"id:{text}")
        elif found is not None and found.type == "issue_stream":
            streams.append(found.project or f"id:{text}")
        elif found is not None:
            monitors.append(found.name)
        elif text.startswith(PLACEHOLDER):
            monitors.append(text.removeprefix(PLACEHOLDER))
        elif text.startswith("error:"):
            projects.append(text.removeprefix("error:"))
        elif text.startswith("issue_stream:"):
            streams.append(text.removeprefix("issue_stream:"))
        else:
            monitors.append(f"id:{text}")
    triggers = body.get("triggers") or {}
    frequency = (body.get("config") or {}).get("frequency")
    out: dict[str, Any] = {
        "name": body.get("name"), "enabled": body.get("enabled", True) is not False,
        "environment": body.get("environment") or None,
        "frequency": Minutes(frequency) if frequency else 0,
        "monitors": sorted(monitors), "projects": sorted(projects),
        "issue_streams": sorted(streams),
        "triggers": {"match": triggers.get("logicType"), "conditions": sorted_canonical(
            condition_canonical(c) for c in triggers.get("conditions") or [])},
        "action_filters": sorted_canonical({
            "match": group.get("logicType"),
            "conditions": sorted_canonical(condition_canonical(c)
                                           for c in group.get("conditions") or []),
            "actions": sorted_canonical(action_friendly(a, directory)
                                        for a in group.get("actions") or [])}
            for group in body.get("actionFilters") or []),
    }
    if "owner" in body:
        out["owner"] = owner_friendly(body["owner"], directory)
    return out


def entry_from_live(data: dict[str, Any], directory: Directory) -> AlertEntry:
    canon = _canonical_body(data, directory)
    entry: dict[str, Any] = {"name": canon["name"]}
    if not canon["enabled"]:
        entry["enabled"] = False
    if canon["environment"]:
        entry["environment"] = canon["environment"]
    if canon["frequency"] != 30:
        entry["frequency"] = canon["frequency"]
    if data.get("owner"):
        entry["owner"] = owner_friendly(data["owner"], directory)
    for key in ("monitors", "projects", "issue_streams"):
        if canon[key]:
            entry[key] = canon[key]
    triggers = data.get("triggers") or {}
    if triggers.get("conditions"):
        entry["triggers"] = [condition_friendly(c) for c in
                             sorted(triggers["conditions"], key=_id_order)]
    if triggers.get("logicType", "any-short") != "any-short":
        entry["trigger_match"] = triggers["logicType"]
    groups = sorted(data.get("actionFilters") or [], key=_id_order)
    friendly = [_group_friendly(g, directory) for g in groups]
    if len(friendly) == 1:
        only = friendly[0]
        entry.update({"filters" if k == "conditions" else k: v for k, v in only.items() if v})
    elif friendly:
        entry["action_filters"] = friendly
    else:
        entry["action_filters"] = []
    return AlertEntry.model_validate(entry)


def _group_friendly(group: dict[str, Any], directory: Directory) -> dict[str, Any]:
    out: dict[str, Any] = {
        "conditions": [condition_friendly(c) for c in
                       sorted(group.get("conditions") or [], key=_id_order)],
        "actions": [action_friendly(a, directory) for a in
                    sorted(group.get("actions") or [], key=_id_order)]}
    if group.get("logicType", "all") != "all":
        out["filter_match"] = group["logicType"]
    return out


def _id_order(item: dict[str, Any]) -> tuple[int, str]:
    ident = str(item.get("id", ""))
    return (int(ident), "") if ident.isdigit() else (0, ident)


# ---- updates keep nested ids ---------------------------------------------------------------

def echo_ids(payload: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """The full PUT body with the workflow id and the live nested ids of the items the
    desired ones match (same canonical condition; same action target), so a PUT leaves
    unchanged items in place instead of recreating them (REFERENCE-workflows.md §3.3)."""
    body = copy.deepcopy(payload)
    if not live:
        return body
    body["id"] = str(live.get("id"))
    live_triggers = live.get("triggers") or {}
    if live_triggers.get("id") is not None:
        body["triggers"]["id"] = live_triggers["id"]
    _echo_conditions(body["triggers"]["conditions"], live_triggers.get("conditions") or [])
    unused = list(live.get("actionFilters") or [])
    for group in body["actionFilters"]:
        match = _best_group(group, unused)
        if match is None:
            continue
        unused.remove(match)
        group["id"] = match["id"]
        _echo_conditions(group["conditions"], match.get("conditions") or [])
        _echo_actions(group["actions"], match.get("actions") or [])
    return body


def _echo_conditions(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    _echo(desired, live, (condition_canonical, lambda c: c.get("type")))


def _echo_actions(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    _echo(desired, live, (action_match_key, lambda a: (a.get("type"),)))


def _echo(desired: list[dict[str, Any]], live: list[dict[str, Any]],
          keys: tuple[Callable[[dict[str, Any]], Any], ...]) -> None:
    """Give desired items (in place) the ids of unused live items with the same key, the
    strictest key first (same content), then looser ones (same type)."""
    unused = [item for item in live if item.get("id") is not None]
    for same in keys:
        for item in desired:
            if "id" in item:
                continue
            match = next((c for c in unused if same(c) == same(item)), None)
            if match is not None:
                item["id"] = match["id"]
                unused.remove(match)


def _best_group(group: dict[str, Any], live: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The live action filter sharing the most actions (then conditions) with `group`."""
    def score(candidate: dict[str, Any]) -> tuple[int, int]:
        actions = {action_match_key(a) for a in candidate.get("actions") or []}
        conditions = [condition_canonical(c) for c in candidate.get("conditions") or []]
        return (sum(action_match_key(a) in actions for a in group["actions"]),
                sum(condition_canonical(c) in conditions for c in group["conditions"]))

    ranked = sorted(live, key=score, reverse=True)
    return ranked[0] if ranked else None


# ---- the kind ----------------------------------------------------------------------------

class AlertKind(ResourceKind[AlertEntry]):
    name = "alert"
    section = "alerts"
    entry_model = AlertEntry
    scope = "organization"
    depends_on = MONITOR_KINDS
    title = "Alert (Sentry workflow, /workflows/): triggers, filters and actions on monitors."

    def key(self, entry: AlertEntry) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data.get("name"))

    def references(self, entry: AlertEntry) -> list[Reference]:
        refs = [Reference("monitor", name, ("monitors", i))
                for i, name in enumerate(entry.monitors)]
        for field in ("projects", "issue_streams"):
            refs += [Reference("project", slug, (field, i))
                     for i, slug in enumerate(getattr(entry, field))]
        if entry.environment:
            refs.append(Reference("environment", entry.environment, ("environment",)))
        refs += owner_refs(entry.owner)
        groups = entry.filter_groups()
        for g, group in enumerate(groups):
            base: tuple[Any, ...] = ("action_filters", g) if entry.action_filters is not None \
                else ()
            for n, action in enumerate(group.actions):
                refs += _action_refs(action, (*base, "actions", n))
        return refs

    def build_payload(self, entry: AlertEntry, *, directory: Directory) -> dict[str, Any]:
        return build_payload(entry, directory)

    def canonical(self, entry: AlertEntry, *, directory: Directory) -> dict[str, Any]:
        return _canonical_body(build_payload(entry, directory), directory)

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> AlertEntry:
        return entry_from_live(data, directory)

    # -- reading: workflows, plus every detector so names resolve --------------------------

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        org = f"organizations/{path_segment(ctx.organization)}"
        params = {"project": "-1", "per_page": 100}
        return [ListRequest(ApiRequest("GET", f"{org}/workflows/", params=params)),
                ListRequest(ApiRequest("GET", f"{org}/detectors/", params=params))]

    def learn(self, body: Any, listing: ListRequest, directory: Directory) -> int:
        if not listing.request.path.endswith("/detectors/") or not isinstance(body, list):
            return 0
        learned = 0
        for item in body:
            if isinstance(item, dict) and item.get("id") is not None:
                ident = str(item["id"])
                learned += ident not in directory.detectors
                directory.detectors[ident] = Detector(
                    id=ident, name=str(item.get("name")), type=str(item.get("type")),
                    project=directory.project_slug(str(item.get("projectId"))))
        return learned

    def items(self, body: Any, listing: ListRequest) -> list[dict[str, Any]]:
        if listing.request.path.endswith("/detectors/"):
            return []  # read for `learn` only
        return super().items(body, listing)

    # -- writes ----------------------------------------------------------------------------

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        path = f"organizations/{path_segment(organization)}/workflows/"
        return ApiRequest("POST", path, json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("PUT", self._detail(organization, change),
                          json=echo_ids(change.payload or {}, change.live))

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", self._detail(organization, change))

    @staticmethod
    def _detail(organization: str, change: ResourceChange) -> str:
        return (f"organizations/{path_segment(organization)}/workflows/"
                f"{path_segment(change.live_id or '')}/")

    async def resolve_change(self, change: ResourceChange, find: Finder) -> ResourceChange:
        payload = change.payload or {}
        ids = payload.get("detectorIds") or []
        pending = [i for i in ids if not str(i).isdigit()]
        if not pending:
            return change
        resolved = []
        for ident in ids:
            text = str(ident)
            if text.isdigit():
                resolved.append(text)
            elif text.startswith(PLACEHOLDER):
                resolved.append(await _find_monitor(find, text.removeprefix(PLACEHOLDER)))
            else:
                kind, _, slug = text.partition(":")
                raise DexterError(f"alert {change.key!r}: project {slug!r} has no system "
                                  f"{kind} monitor", code="unknown-reference")
        new = copy.copy(change)
        new.payload = {**payload, "detectorIds": resolved}
        return new


async def _find_monitor(find: Finder, name: str) -> str:
    for kind in MONITOR_KINDS:
        found = await find(kind, name)
        if found is not None:
            return found.id
    raise DexterError(f"monitor {name!r} does not exist (was its create applied?)",
                      code="unknown-reference")


def _action_refs(action: dict[str, Any], path: tuple[Any, ...]) -> list[Reference]:
    if "type" in action:
        return []
    kind, params = next(iter(action.items()))
    params = params or {}
    refs: list[Reference] = []
    if kind in INTEGRATED:
        field = {"slack": "workspace", "pagerduty": "account", "opsgenie": "account",
                 "msteams": "team", "discord": "server"}.get(kind, "integration")
        value = params.get(field)
        refs.append(Reference("integration", "" if value is None else str(value),
                              (*path, kind, field), provider=PROVIDER[kind]))
        if kind == "slack":
            refs.append(Reference("slack_channel", str(params["channel"]),
                                  (*path, "slack", "channel"),
                                  scope=None if value is None else str(value)))
    if kind == "email":
        refs += actor_refs("team", params.get("team"), (*path, "email", "team"))
        refs += actor_refs("member", params.get("user"), (*path, "email", "user"))
    return refs


__all__ = ["SYSTEM_DETECTOR_TYPES", "AlertEntry", "AlertKind", "build_payload",
           "echo_ids", "entry_from_live"]

register(AlertKind())
