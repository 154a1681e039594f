"""The `issue_alert` kind: Sentry's legacy project rules (REFERENCE §2).

Natural key: `<project>/<name>`. Comparison: desired and live both become Sentry nodes and
then friendly nodes (`node_friendly`), sorted (conditions, filters and actions are order-free
for what a rule does), with conditions and filters re-split by class the way Sentry splits
them on output; `frequency`/`filterMatch`/`actionMatch` defaults filled on both sides.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from pydantic import ValidationError

from ..core.changes import ResourceChange, SafetyFinding
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from .alert_gates import issue_alert_gates
from .base import Fallback, ListRequest, ReadContext, Reference, ResourceKind, SlackChannel
from .fields import (
    actor_refs,
    duration_minutes,
    format_duration,
    owner_friendly,
    owner_refs,
    owner_to_sentry,
    revealed_channel,
    slack_channel_name,
    sort_key,
    sorted_canonical,
    with_raw,
)
from .issue_alert_model import IssueAlertEntry, OneKeyNode, SentryNode
from .issue_alert_nodes import BY_SHORT, INTEGRATION_KEYS, node_friendly, spec_payload
from .live_memo import memo_scope
from .registry import register

DEFAULT_FREQUENCY = 30
DEFAULT_MATCH = "all"
LIST_OF_ROLE = {"condition": "conditions", "filter": "filters", "action": "actions"}


def node_payload(node: Any, *, directory: Directory) -> dict[str, Any]:
    """Sentry's `{id, ...fields}` for one manifest node (never a `name` key: Sentry drops it)."""
    if isinstance(node, str):
        return spec_payload(BY_SHORT[node], {}, directory)
    if isinstance(node, SentryNode):
        return {"id": node.id, **node.fields()}
    assert isinstance(node, OneKeyNode)
    short, params = node.chosen()
    return spec_payload(BY_SHORT[short], params, directory)


def build_payload(entry: IssueAlertEntry, *, directory: Directory) -> dict[str, Any]:
    """The complete Sentry request body (POST and PUT: a PUT overwrites the whole rule)."""
    body: dict[str, Any] = {
        "name": entry.name,
        "actionMatch": entry.action_match,
        "filterMatch": entry.filter_match or DEFAULT_MATCH,
        "frequency": round(duration_minutes(entry.frequency)),
        "conditions": [node_payload(n, directory=directory) for n in entry.conditions],
        "filters": [node_payload(n, directory=directory) for n in entry.filters],
        "actions": [node_payload(n, directory=directory) for n in entry.actions],
    }
    declared = entry.model_fields_set
    if "environment" in declared:
        body["environment"] = entry.environment
    if "owner" in declared:
        body["owner"] = owner_to_sentry(entry.owner, directory)
    return with_raw(body, entry.raw)


def payload_for_update(entry: IssueAlertEntry, live_data: dict[str, Any], *,
                       directory: Directory) -> dict[str, Any]:
    """The PUT body, echoing live action `uuid`s so Sentry keeps them stable (§2.3)."""
    return echo_uuids(build_payload(entry, directory=directory), live_data)


def _action_key(node: dict[str, Any]) -> str:
    return sort_key({k: str(v) for k, v in node.items() if k not in ("name", "uuid")})


def echo_uuids(payload: dict[str, Any], live_data: dict[str, Any] | None) -> dict[str, Any]:
    if not live_data:
        return payload
    body = copy.deepcopy(payload)
    unused = [a for a in live_data.get("actions") or [] if a.get("uuid")]
    for wanted in (_action_key, lambda a: str(a.get("id"))):
        for action in body.get("actions", []):
            if action.get("uuid"):
                continue
            key = wanted(action)
            match = next((a for a in unused if wanted(a) == key), None)
            if match is not None:
                action["uuid"] = match["uuid"]
                unused.remove(match)
    return body


def _canonical_body(body: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """Comparison form of a request body or live rule, in manifest field names."""
    split: dict[str, list[Any]] = {"conditions": [], "filters": [], "actions": []}
    for list_name in split:
        for node in body.get(list_name) or []:
            role, friendly = node_friendly(node, directory)
            split[LIST_OF_ROLE[role] if role else list_name].append(friendly)
    out: dict[str, Any] = {
        "name": body.get("name"),
        "action_match": body.get("actionMatch") or DEFAULT_MATCH,
        "filter_match": body.get("filterMatch") or DEFAULT_MATCH,
        "frequency": format_duration(float(body.get("frequency") or DEFAULT_FREQUENCY)),
        **{name: sorted_canonical(nodes) for name, nodes in split.items()},
    }
    if "environment" in body:
        out["environment"] = body["environment"]
    if "owner" in body:
        out["owner"] = owner_friendly(body["owner"], directory)
    return out


def entry_from_live(data: dict[str, Any], *, directory: Directory,
                    project: str | None = None) -> IssueAlertEntry:
    """The manifest entry describing a live rule, in friendly forms (what export writes)."""
    projects = data.get("projects") or []
    entry: dict[str, Any] = {
        "name": data.get("name"),
        "project": project or (projects[0] if projects else ""),
        "frequency": format_duration(float(data.get("frequency") or DEFAULT_FREQUENCY)),
    }
    if (data.get("actionMatch") or DEFAULT_MATCH) != DEFAULT_MATCH:
        entry["action_match"] = data["actionMatch"]
    if (data.get("filterMatch") or DEFAULT_MATCH) != DEFAULT_MATCH:
        entry["filter_match"] = data["filterMatch"]
    if data.get("environment") is not None:
        entry["environment"] = data["environment"]
    if data.get("owner"):
        entry["owner"] = owner_friendly(data["owner"], directory)
    lists = {name: data.get(name) or [] for name in ("conditions", "filters", "actions")}
    friendly = {name: [node_friendly(n, directory, defaults=False)[1] for n in nodes]
                for name, nodes in lists.items()}
    try:
        return IssueAlertEntry.model_validate({**entry, **_non_empty(friendly)},
                                              context={"live": True})
    except ValidationError:
        # a value no friendly form allows (a newer Sentry's interval, say): keep that rule's
        # nodes in Sentry's own form, which compares the same way
        sentry = {name: [{k: v for k, v in n.items() if k not in ("name", "uuid")}
                         for n in nodes]
                  for name, nodes in lists.items()}
        return IssueAlertEntry.model_validate({**entry, **_non_empty(sentry)},
                                              context={"live": True})


def _non_empty(lists: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: v for k, v in lists.items() if v or k == "actions"}


class IssueAlertKind(ResourceKind[IssueAlertEntry]):
    name = "issue_alert"
    section = "issue_alerts"
    entry_model = IssueAlertEntry
    scope = "project"
    canonical_reuses_payload = True
    task_segment = "rule-task"
    id_path_segments = ("rule-task",)
    title = "Issue alert rule (legacy project rule, /projects/{org}/{project}/rules/)."
    replaced_by = ("alert",)
    retired_hint = ("Sentry has moved this organization's alert rules to workflows: run "
                    "`dexter migrate alerts PATH` to move these manifests to `alerts` and "
                    "`monitors`")

    def key(self, entry: IssueAlertEntry) -> str:
        return f"{entry.project}/{entry.name}"

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        slug = project or (data.get("projects") or [""])[0]
        return f"{slug}/{data.get('name')}"

    def references(self, entry: IssueAlertEntry) -> list[Reference]:
        refs = [Reference("project", entry.project, ("project",))]
        if entry.environment:
            refs.append(Reference("environment", entry.environment, ("environment",)))
        refs += owner_refs(entry.owner)
        for list_name in ("filters", "actions"):
            for index, node in enumerate(getattr(entry, list_name)):
                refs += _node_refs(node, (list_name, index))
        return refs

    def build_payload(self, entry: IssueAlertEntry, *, directory: Directory) -> dict[str, Any]:
        return build_payload(entry, directory=directory)

    def canonical(self, entry: IssueAlertEntry, *, directory: Directory) -> dict[str, Any]:
        return self.canonical_from_payload(entry, build_payload(entry, directory=directory),
                                           directory=directory)

    def canonical_from_payload(self, entry: IssueAlertEntry, payload: dict[str, Any], *,
                               directory: Directory) -> dict[str, Any]:
        """canonical() from the entry's request body, already built (the planner reuses it)."""
        out = _canonical_body(payload, directory)
        out["project"] = entry.project
        return out

    def canonical_live(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        """canonical(entry_from_live(data)) built straight from the JSON (issue_alert_live)."""
        from .issue_alert_live import canonical_live  # late: it imports this module

        try:
            return canonical_live(data, directory)
        except Fallback:  # what the fast path leaves to the default round trip
            return super().canonical_live(data, directory=directory)

    def live_scope(self, directory: Directory) -> AbstractContextManager[None]:
        """Remember action and node conversions while a plan reads live rules (live_memo)."""
        return memo_scope(directory)

    def safety_findings(self, change: ResourceChange) -> list[SafetyFinding]:
        return issue_alert_gates(change)

    def slack_channels(self, data: dict[str, Any]) -> Iterable[SlackChannel]:
        """Slack action nodes carry `workspace`, `channel` (the name) and `channel_id`."""
        for node in data.get("actions") or []:
            if node.get("channel_id") and node.get("workspace") and node.get("channel"):
                yield revealed_channel(node["workspace"], node["channel"], node["channel_id"])

    def may_answer_with_task(self, request: ApiRequest) -> bool:
        """A Slack action without `channel_id`: Sentry may look the channel up in a task
        (REFERENCE §2.1, "Slack")."""
        body = request.json if isinstance(request.json, dict) else {}
        return any(str(node.get("id", "")).endswith("SlackNotifyServiceAction")
                   and not node.get("channel_id") for node in body.get("actions") or [])

    def existing_id_from_rejection(self, body: Any) -> str | None:
        """The `ruleId` of Sentry's "exact duplicate" 400 (REFERENCE.md §2.1)."""
        if not isinstance(body, dict) or "ruleId" not in body:
            return None
        value = body["ruleId"]
        if isinstance(value, list):
            value = value[0] if value else None
        return str(value) if value is not None else None

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> IssueAlertEntry:
        return entry_from_live(data, directory=directory)

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        org = path_segment(ctx.organization)
        return [
            ListRequest(ApiRequest("GET", f"projects/{org}/{path_segment(p)}/rules/",
                                   params={"per_page": 100}), project=p)
            for p in sorted(set(ctx.projects))
        ]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", self._rules(organization, change), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        body = echo_uuids(change.payload or {}, change.live)
        path = f"{self._rules(organization, change)}{path_segment(change.live_id or '')}/"
        return ApiRequest("PUT", path, json=body)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        path = f"{self._rules(organization, change)}{path_segment(change.live_id or '')}/"
        return ApiRequest("DELETE", path)

    @staticmethod
    def _rules(organization: str, change: ResourceChange) -> str:
        project = change.project or change.key.partition("/")[0]
        return f"projects/{path_segment(organization)}/{path_segment(project)}/rules/"


def _node_refs(node: Any, path: tuple[Any, ...]) -> list[Reference]:
    if not isinstance(node, OneKeyNode):
        return []
    short, params = node.chosen()
    refs: list[Reference] = []
    if short in INTEGRATION_KEYS:
        key, provider = INTEGRATION_KEYS[short]
        value = params.get(key)
        refs.append(Reference("integration", "" if value is None else str(value),
                              (*path, short, key), provider=provider))
        if short == "slack":
            refs.append(Reference("slack_channel", slack_channel_name(params["channel"]),
                                  (*path, short, "channel"),
                                  scope=None if value is None else str(value)))
    if short in ("email", "assigned_to"):
        refs += actor_refs("team", params.get("team"), (*path, short, "team"))
        refs += actor_refs("member", params.get("user"), (*path, short, "user"))
    return refs


register(IssueAlertKind())

__all__ = ["IssueAlertEntry", "IssueAlertKind", "build_payload", "entry_from_live",
           "node_payload", "payload_for_update"]
