"""The catalogue of issue-alert nodes (conditions, filters, actions) and their conversions.

Each node has a short name (`event_frequency`), Sentry's class path (`id`), a role and a
parameter model. `node_payload` turns a manifest node into Sentry's `{id, ...fields}`;
`node_friendly` turns Sentry's node (a request body's or a live one, with its server-added
`name` and `uuid`) back into the friendly form. Comparison runs both sides through
`node_friendly`, so type coercion ("100" vs 100), ChoiceField ids as strings, `#` prefixes,
whitespace and the `name`/`uuid` keys never show as differences.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ...core.directory import Directory
from . import params as p
from ..fields import (
    int_or_str,
    integration_id_for,
    integration_name_for,
    number,
    slack_channel_id,
    slack_channel_name,
    slack_channel_ref,
    sort_key,
    strip_text,
    team_id_for,
    team_ref,
    user_id_for,
    user_ref,
)

Role = Literal["condition", "filter", "action"]
Fields = dict[str, Any]
SERVER_KEYS = ("id", "name", "uuid")
_ABSENT = object()  # a parameter default that no value equals


@dataclass(frozen=True)
class NodeSpec:
    short: str
    id: str
    role: Role
    params: type[BaseModel] | None = None
    to_sentry: Callable[[Fields, Directory], Fields] = lambda f, d: {}
    from_sentry: Callable[[Fields, Directory], Fields] = lambda f, d: {}
    defaults: Fields = field(default_factory=dict)
    """Values Sentry assumes when a parameter is absent (filled in for comparison)."""


def filled(f: Fields) -> Fields:
    """Form values without end whitespace, blank ones left out (a form reads them as unset)."""
    out = {}
    for k, v in f.items():
        v = strip_text(v)
        if v is not None and v != "":
            out[k] = v
    return out


def _renamed(pairs: dict[str, str], *, numbers: tuple[str, ...] = (),
             strings: tuple[str, ...] = ()) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Converters for nodes whose friendly keys only rename Sentry's (friendly -> sentry).
    `strings` are text form fields (Sentry stores 500 as "500")."""

    def to_sentry(f: Fields, d: Directory) -> Fields:
        out = {pairs.get(k, k): strip_text(v) for k, v in f.items() if v is not None}
        return {k: (str(v) if k in strings else v) for k, v in out.items()}

    back = {v: k for k, v in pairs.items()}  # once per node kind, not per node

    def from_sentry(f: Fields, d: Directory) -> Fields:
        out = {back.get(k, k): v for k, v in filled(f).items()}
        for key in numbers:
            if key in out:
                out[key] = number(out[key])
        for key in strings:
            if key in out:
                out[key] = str(out[key])
        return out

    return to_sentry, from_sentry


_FREQ = _renamed({"comparison_type": "comparisonType", "comparison_interval": "comparisonInterval"},
                 numbers=("value",))
_SIMPLE_NUM = _renamed({}, numbers=("value",))
_SAME = _renamed({})
_MATCH = _renamed({}, strings=("value",))


def _integration(provider: str, key: str, extra: Callable[[Fields, Directory], Fields] | None,
                 back: Callable[[Fields, Directory], Fields] | None,
                 numbers: tuple[str, ...] = ()) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Converters for nodes naming an integration under `key` (a ChoiceField: id as string)."""

    def to_sentry(f: Fields, d: Directory) -> Fields:
        out = {k: strip_text(v) for k, v in f.items() if v is not None and k != "fields"}
        out[key] = _choice_id(integration_id_for(f.get(key), provider, d))
        out.update(f.get("fields") or {})
        return extra(out, d) if extra else out

    def from_sentry(f: Fields, d: Directory) -> Fields:
        out = filled(f)
        out[key] = integration_name_for(f.get(key), provider, d)
        for name in numbers:
            if name in out:
                out[name] = number(out[name])
        return back(out, d) if back else out

    return to_sentry, from_sentry


def _choice_id(value: Any) -> str | None:
    """An integration id as a ChoiceField stores it (a string); None stays None, for the
    reference check to report rather than a literal "None" sent to Sentry."""
    return None if value is None else str(value)


def _with_extra_fields(known: tuple[str, ...]) -> Callable[[Fields, Directory], Fields]:
    """Move form keys the friendly model does not name into `fields`."""

    def back(f: Fields, d: Directory) -> Fields:
        extra = {k: v for k, v in f.items() if k not in known}
        out = {k: v for k, v in f.items() if k in known}
        if extra:
            out["fields"] = extra
        return out

    return back


def _str_ids(*keys: str, then: Callable[[Fields, Directory], Fields] | None = None
             ) -> Callable[[Fields, Directory], Fields]:
    """Ids a form stores as strings (`project: 10000` is "10000"), then `then`."""
    def convert(f: Fields, d: Directory) -> Fields:
        out = {k: (str(v) if k in keys and v is not None else v) for k, v in f.items()}
        return then(out, d) if then else out
    return convert


# ---- special converters -------------------------------------------------------------------

# Sentry's values -> friendly names (built once: the converters run for every node)
_FALLTHROUGH_NAMES = {v: k for k, v in p.FALLTHROUGH.items()}
_LEVEL_NAMES = {v: k for k, v in p.LEVELS.items()}
_CATEGORY_NAMES = {v: k for k, v in p.CATEGORIES.items()}

def _assigned_to(f: Fields, d: Directory) -> Fields:
    target = f.get("target") or ("team" if f.get("team") is not None else "member")
    if target == "team":
        return {"targetType": "Team", "targetIdentifier": int_or_str(team_id_for(f["team"], d))}
    if target == "member":
        return {"targetType": "Member", "targetIdentifier": int_or_str(user_id_for(f["user"], d))}
    return {"targetType": "Unassigned"}


def _assigned_back(f: Fields, d: Directory) -> Fields:
    target = str(f.get("targetType") or "").lower()
    ident = f.get("targetIdentifier")
    if target == "team" and ident not in (None, ""):
        return {"team": team_ref(ident, d)}
    if target == "member" and ident not in (None, ""):
        return {"user": user_ref(ident, d)}
    return {"target": "unassigned"}


def _email(f: Fields, d: Directory) -> Fields:
    out = _assigned_to({**f, "target": {"issue_owners": "unassigned"}.get(
        str(f.get("target")), f.get("target"))}, d)
    if out["targetType"] == "Unassigned":
        out = {"targetType": "IssueOwners"}
    if f.get("fallthrough"):
        out["fallthroughType"] = p.FALLTHROUGH[f["fallthrough"]]
    return out


def _email_back(f: Fields, d: Directory) -> Fields:
    if str(f.get("targetType")) == "IssueOwners":
        out: Fields = {"target": "issue_owners"}
    else:
        out = _assigned_back(f, d)
    if f.get("fallthroughType"):
        out["fallthrough"] = _FALLTHROUGH_NAMES.get(f["fallthroughType"], f["fallthroughType"])
    return out


def _level(f: Fields, d: Directory) -> Fields:
    level = str(f["level"])
    return {"match": f["match"], "level": p.LEVELS.get(level, level)}


def _level_back(f: Fields, d: Directory) -> Fields:
    level = str(f.get("level", "")).strip()
    return {"match": f.get("match"), "level": _LEVEL_NAMES.get(level, level)}


def _category(f: Fields, d: Directory) -> Fields:
    value = f["value"]
    return {"value": p.CATEGORIES.get(value, value) if isinstance(value, str) else value}


def _category_back(f: Fields, d: Directory) -> Fields:
    value = number(f.get("value"))
    return {"value": _CATEGORY_NAMES.get(value, value)}


def _slack(f: Fields, d: Directory) -> Fields:
    workspace = integration_id_for(f.get("workspace"), "slack", d)
    channel = slack_channel_name(f["channel"])
    out: Fields = {"workspace": _choice_id(workspace), "channel": channel}
    channel_id = f.get("channel_id") or slack_channel_id(d, workspace, channel)
    if channel_id:
        out["channel_id"] = channel_id
    if f.get("tags") is not None:
        out["tags"] = ",".join(f["tags"])
    if f.get("notes") is not None:
        out["notes"] = f["notes"]
    return out


def _slack_back(f: Fields, d: Directory) -> Fields:
    workspace = f.get("workspace")
    out: Fields = {
        "channel": slack_channel_ref(d, workspace, str(f.get("channel") or f.get("channel_id")),
                                     f.get("channel_id")),
        "workspace": integration_name_for(workspace, "slack", d),
    }
    tags = p._tags(f.get("tags") or "")
    if tags:
        out["tags"] = tags
    if (f.get("notes") or "").strip():
        out["notes"] = f["notes"].strip()
    return out


def _discord_extra(f: Fields, d: Directory) -> Fields:
    out = {**f, "channel_id": str(f["channel_id"])}
    if isinstance(f.get("tags"), list):
        out["tags"] = ",".join(f["tags"])
    return out


def _discord_back(f: Fields, d: Directory) -> Fields:
    out = {**f, "channel_id": str(f.get("channel_id"))}
    tags = p._tags(f.get("tags") or "")
    out.pop("tags", None)
    if tags:
        out["tags"] = tags
    return out


def _sentry_app(f: Fields, d: Directory) -> Fields:
    out: Fields = {"sentryAppInstallationUuid": f["installation_uuid"]}
    if f.get("settings") is not None:
        out["settings"] = f["settings"]
    if f.get("has_schema_form_config") is not None:
        out["hasSchemaFormConfig"] = f["has_schema_form_config"]
    return out


def _sentry_app_back(f: Fields, d: Directory) -> Fields:
    out: Fields = {"installation_uuid": f.get("sentryAppInstallationUuid")}
    if f.get("settings"):
        out["settings"] = sorted(({"name": s.get("name"), "value": s.get("value")}
                                  for s in f["settings"]), key=sort_key)
    if f.get("hasSchemaFormConfig") is not None:
        out["has_schema_form_config"] = bool(f["hasSchemaFormConfig"])
    return out


# ---- the catalogue ------------------------------------------------------------------------

_C = "sentry.rules.conditions."
_F = "sentry.rules.filters."
_I = "sentry.integrations."
_TICKET_KEYS = ("integration", "project", "issuetype", "dynamic_form_fields")
_GITHUB_KEYS = ("integration", "repo", "title", "body", "assignee", "labels")
_AZURE_KEYS = ("integration", "project", "work_item_type", "dynamic_form_fields")

CATALOGUE: tuple[NodeSpec, ...] = (
    NodeSpec("first_seen_event", _C + "first_seen_event.FirstSeenEventCondition", "condition"),
    NodeSpec("regression_event", _C + "regression_event.RegressionEventCondition", "condition"),
    NodeSpec("reappeared_event", _C + "reappeared_event.ReappearedEventCondition", "condition"),
    NodeSpec("new_high_priority_issue",
             _C + "high_priority_issue.NewHighPriorityIssueCondition", "condition"),
    NodeSpec("existing_high_priority_issue",
             _C + "high_priority_issue.ExistingHighPriorityIssueCondition", "condition"),
    NodeSpec("event_frequency", _C + "event_frequency.EventFrequencyCondition", "condition",
             p.FrequencyParams, *_FREQ, defaults={"comparison_type": "count"}),
    NodeSpec("event_unique_user_frequency",
             _C + "event_frequency.EventUniqueUserFrequencyCondition", "condition",
             p.FrequencyParams, *_FREQ, defaults={"comparison_type": "count"}),
    NodeSpec("event_frequency_percent", _C + "event_frequency.EventFrequencyPercentCondition",
             "condition", p.PercentParams, *_FREQ, defaults={"comparison_type": "count"}),
    NodeSpec("age_comparison", _F + "age_comparison.AgeComparisonFilter", "filter",
             p.AgeParams, *_SIMPLE_NUM),
    NodeSpec("issue_occurrences", _F + "issue_occurrences.IssueOccurrencesFilter", "filter",
             p.OccurrencesParams, *_SIMPLE_NUM),
    NodeSpec("assigned_to", _F + "assigned_to.AssignedToFilter", "filter", p.AssignedParams,
             _assigned_to, _assigned_back),
    NodeSpec("latest_release", _F + "latest_release.LatestReleaseFilter", "filter"),
    NodeSpec("issue_category", _F + "issue_category.IssueCategoryFilter", "filter",
             p.CategoryParams, _category, _category_back),
    NodeSpec("event_attribute", _C + "event_attribute.EventAttributeCondition", "filter",
             p.AttributeParams, *_MATCH),
    NodeSpec("tagged_event", _F + "tagged_event.TaggedEventFilter", "filter",
             p.TaggedParams, *_MATCH),
    NodeSpec("level", _F + "level.LevelFilter", "filter", p.LevelParams, _level, _level_back),
    NodeSpec("email", "sentry.mail.actions.NotifyEmailAction", "action", p.EmailParams,
             _email, _email_back, defaults={"fallthrough": "active_members"}),
    NodeSpec("slack", _I + "slack.notify_action.SlackNotifyServiceAction", "action",
             p.SlackParams, _slack, _slack_back),
    NodeSpec("msteams", _I + "msteams.notify_action.MsTeamsNotifyServiceAction", "action",
             p.MsTeamsParams, *_integration("msteams", "team", None, None)),
    NodeSpec("discord", _I + "discord.notify_action.DiscordNotifyServiceAction", "action",
             p.DiscordParams, *_integration("discord", "server", _discord_extra, _discord_back)),
    NodeSpec("jira", _I + "jira.notify_action.JiraCreateTicketAction", "action",
             p.TicketParams, *_integration("jira", "integration", _str_ids("project", "issuetype"),
                                           _str_ids("project", "issuetype",
                                                    then=_with_extra_fields(_TICKET_KEYS)))),
    NodeSpec("jira_server", _I + "jira_server.notify_action.JiraServerCreateTicketAction",
             "action", p.TicketParams,
             *_integration("jira_server", "integration", _str_ids("project", "issuetype"),
                           _str_ids("project", "issuetype",
                                    then=_with_extra_fields(_TICKET_KEYS)))),
    NodeSpec("github", _I + "github.notify_action.GitHubCreateTicketAction", "action",
             p.GitHubParams, *_integration("github", "integration", None,
                                           _with_extra_fields(_GITHUB_KEYS))),
    NodeSpec("github_enterprise",
             _I + "github_enterprise.notify_action.GitHubEnterpriseCreateTicketAction", "action",
             p.GitHubParams, *_integration("github_enterprise", "integration", None,
                                           _with_extra_fields(_GITHUB_KEYS))),
    NodeSpec("azure_devops", _I + "vsts.notify_action.AzureDevopsCreateTicketAction", "action",
             p.AzureParams, *_integration("vsts", "integration", _str_ids("project"),
                                          _str_ids("project",
                                                   then=_with_extra_fields(_AZURE_KEYS)))),
    NodeSpec("pagerduty", _I + "pagerduty.notify_action.PagerDutyNotifyServiceAction", "action",
             p.PagerDutyParams, *_integration("pagerduty", "account", _str_ids("service"),
                                              _str_ids("service"))),
    NodeSpec("opsgenie", _I + "opsgenie.notify_action.OpsgenieNotifyTeamAction", "action",
             p.OpsgenieParams, *_integration("opsgenie", "account", _str_ids("team"),
                                             _str_ids("team")),
             defaults={"priority": "P3"}),
    NodeSpec("notify_event_service",
             "sentry.rules.actions.notify_event_service.NotifyEventServiceAction", "action",
             p.ServiceParams, *_SAME),
    NodeSpec("sentry_app",
             "sentry.rules.actions.notify_event_sentry_app.NotifyEventSentryAppAction", "action",
             p.SentryAppParams, _sentry_app, _sentry_app_back),
    NodeSpec("notify_event", "sentry.rules.actions.notify_event.NotifyEventAction", "action"),
)

BY_SHORT = {s.short: s for s in CATALOGUE}
BY_ID = {s.id: s for s in CATALOGUE}
INTEGRATION_KEYS = {"slack": ("workspace", "slack"), "msteams": ("team", "msteams"),
                    "discord": ("server", "discord"), "jira": ("integration", "jira"),
                    "jira_server": ("integration", "jira_server"),
                    "github": ("integration", "github"),
                    "github_enterprise": ("integration", "github_enterprise"),
                    "azure_devops": ("integration", "vsts"),
                    "pagerduty": ("account", "pagerduty"), "opsgenie": ("account", "opsgenie")}




# ---- conversions ----------------------------------------------------------------------------

def spec_payload(spec: NodeSpec, params: Fields, directory: Directory) -> Fields:
    """Sentry's node for a catalogue node and its friendly parameters (a dict)."""
    return {"id": spec.id, **spec.to_sentry(params, directory)}


def node_friendly(node: Fields, directory: Directory, *, defaults: bool = True
                  ) -> tuple[Role | None, Any]:
    """(role, friendly node) for a Sentry node. `defaults` fills Sentry's implied values
    (comparison form); without it they are dropped (export form). Unknown ids keep Sentry's
    form without the server-added keys and empty values, with role None."""
    role, compared, exported = node_forms(node, directory)
    return role, compared if defaults else exported


def node_forms(node: Fields, directory: Directory) -> tuple[Role | None, Any, Any]:
    """(role, comparison form, export form) of a Sentry node, converted once."""
    node_id = str(node.get("id", ""))
    spec = BY_ID.get(node_id)
    if spec is not None and spec.params is None:
        return spec.role, spec.short, spec.short
    fields = {k: v for k, v in node.items() if k not in SERVER_KEYS}
    if spec is None:
        kept = {"id": node_id, **filled(fields)}
        return None, kept, kept
    assert spec.params is not None  # a node without params returned above
    params = _in_model_order(spec.params, spec.from_sentry(fields, directory))
    if not spec.defaults:
        return spec.role, {spec.short: params}, {spec.short: params}
    compared = {**params, **{k: v for k, v in spec.defaults.items() if k not in params}}
    exported = {k: v for k, v in params.items() if spec.defaults.get(k, _ABSENT) != v}
    return spec.role, {spec.short: compared}, {spec.short: exported}


def _in_model_order(model: type[BaseModel], params: Fields) -> Fields:
    """Parameters in the order the manifest model lists them (exports and diffs read well)."""
    order = _field_order(model)
    out = {name: params[name] for name in order if name in params}
    if len(out) < len(params):
        out.update((k, v) for k, v in params.items() if k not in out)
    return out


@functools.cache
def _field_order(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(model.model_fields)
