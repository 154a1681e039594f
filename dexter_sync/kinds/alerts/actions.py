"""Workflow actions (REFERENCE-workflows.md §2.6): manifest forms, the request form, and
the friendly form both sides of a comparison are turned into.

Friendly forms (one key naming the action):
  {email: {target_type: issue_owners, fallthrough: ActiveMembers}} | {email: {team: t}}
  | {email: {user: a@b.c}}
  {slack: {channel: "#alerts", workspace?, channel_id?, tags?, notes?}}
  {pagerduty: {service, account?, priority?}}    {opsgenie: {team, account?, priority?}}
  {msteams: {channel, team?, channel_id?}}       {discord: {channel_id, server?, tags?}}
  {jira|jira_server|github|github_enterprise|vsts: {integration?, fields: {...}}}
  {webhook: {service}}    {sentry_app: {app, name?, settings?}}    {plugin: {}}
Sentry's own form `{type, integration_id, config, data}` is always accepted.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from ...core.directory import Directory
from ..fields import (
    camelize,
    drop_none,
    int_or_str,
    integration_id_for,
    integration_name_for,
    slack_channel_id,
    slack_channel_name,
    slack_name_for_id,
    snakify,
    team_id_for,
    team_ref,
    user_id_for,
    user_ref,
)

TICKETS = ("jira", "jira_server", "github", "github_enterprise", "vsts")
INTEGRATED = ("slack", "pagerduty", "opsgenie", "msteams", "discord", *TICKETS)
FALLTHROUGH = ("ActiveMembers", "AllMembers", "NoOne")
ALLOWED: dict[str, tuple[str, ...]] = {
    "email": ("target_type", "team", "user", "fallthrough"),
    "slack": ("channel", "workspace", "channel_id", "tags", "notes"),
    "pagerduty": ("service", "account", "priority"),
    "opsgenie": ("team", "account", "priority"),
    "msteams": ("channel", "team", "channel_id"),
    "discord": ("channel_id", "server", "tags"),
    **{t: ("integration", "fields") for t in TICKETS},
    "webhook": ("service",), "sentry_app": ("app", "name", "settings"), "plugin": (),
}
REQUIRED = {"slack": ("channel",), "pagerduty": ("service",), "opsgenie": ("team",),
            "msteams": ("channel",), "discord": ("channel_id",), "webhook": ("service",),
            "sentry_app": ("app",)}
SENTRY_KEYS = {"type", "integration_id", "integrationId", "config", "data", "id", "status"}
ACTION_TYPES = (*ALLOWED, "plugin")
PROVIDER = {"github_enterprise": "github_enterprise", **{t: t for t in INTEGRATED}}
_INTEGRATION_FIELD = {"slack": "workspace", "pagerduty": "account", "opsgenie": "account",
                      "msteams": "team", "discord": "server", **{t: "integration" for t in TICKETS}}


def check_action(value: Any) -> Any:
    """Validation of one manifest action (raises ValueError with the reason)."""
    if not isinstance(value, dict) or not value:
        raise ValueError("an action is a mapping such as {email: {target_type: issue_owners}}")
    if "type" in value:
        unknown = set(value) - SENTRY_KEYS
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} in an action")
        if value["type"] not in ACTION_TYPES:
            raise ValueError(f"unknown action type {value['type']!r}; valid: "
                             f"{', '.join(ACTION_TYPES)}")
        return value
    if len(value) != 1:
        raise ValueError(f"an action names exactly one target, got {', '.join(map(str, value))}")
    kind, params = next(iter(value.items()))
    if kind not in ALLOWED:
        raise ValueError(f"unknown action {kind!r}; valid: {', '.join(ALLOWED)}")
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise ValueError(f"{kind}: expected a mapping of settings, got {params!r}")  # noqa: TRY004 -- pydantic reports ValueErrors
    unknown = set(params) - set(ALLOWED[kind])
    if unknown:
        raise ValueError(f"{kind}: unknown key(s) {', '.join(sorted(unknown))}; valid: "
                         f"{', '.join(ALLOWED[kind])}")
    missing = [k for k in REQUIRED.get(kind, ()) if params.get(k) in (None, "")]
    if missing:
        raise ValueError(f"{kind}: {', '.join(missing)} is required")
    if kind == "email":
        _check_email(params)
    return value


def _check_email(params: dict[str, Any]) -> None:
    chosen = [k for k in ("team", "user") if params.get(k) is not None]
    target = params.get("target_type") or (chosen[0] if chosen else "issue_owners")
    if target not in ("issue_owners", "team", "user"):
        raise ValueError("email: target_type is issue_owners, team or user")
    if target == "issue_owners" and chosen:
        raise ValueError("email: issue_owners takes no team or user")
    if target != "issue_owners" and chosen != [target]:
        raise ValueError(f"email: target_type {target} needs `{target}:`")
    if params.get("fallthrough") not in (None, *FALLTHROUGH):
        raise ValueError(f"email: fallthrough is one of {', '.join(FALLTHROUGH)}")


Action = Annotated[dict[str, Any], AfterValidator(check_action)]


# ---- manifest -> request body ------------------------------------------------------------

def action_payload(action: dict[str, Any], directory: Directory) -> dict[str, Any]:
    if "type" in action:
        return {"type": action["type"],
                "integrationId": int_or_str(action.get("integration_id",
                                                       action.get("integrationId"))),
                "config": camelize(action.get("config") or {}),
                "data": camelize(action.get("data") or {})}
    kind, params = next(iter(action.items()))
    params = params or {}
    integration = None
    if kind in INTEGRATED:
        integration = int_or_str(integration_id_for(
            params.get(_INTEGRATION_FIELD[kind]), PROVIDER[kind], directory))
    config, data = _config_data(kind, params, integration, directory)
    return {"type": kind, "integrationId": integration, "config": config, "data": data}


def _specific(identifier: Any, display: Any = None) -> dict[str, Any]:
    return {"targetType": "specific",
            "targetIdentifier": None if identifier is None else str(identifier),
            "targetDisplay": display}


def _config_data(kind: str, p: dict[str, Any], integration: Any,
                 directory: Directory) -> tuple[dict[str, Any], dict[str, Any]]:
    if kind == "email":
        target = p.get("target_type") or ("team" if p.get("team") is not None else
                                          "user" if p.get("user") is not None else
                                          "issue_owners")
        if target == "issue_owners":
            return ({"targetType": "issue_owners", "targetIdentifier": None,
                     "targetDisplay": None},
                    {"fallthroughType": p.get("fallthrough") or "ActiveMembers"})
        ident = team_id_for(p["team"], directory) if target == "team" \
            else user_id_for(p["user"], directory)
        return {"targetType": target, "targetIdentifier": str(ident), "targetDisplay": None}, {}
    if kind == "slack":
        name = slack_channel_name(str(p["channel"]))
        channel_id = p.get("channel_id") or slack_channel_id(directory, integration, name)
        return (_specific(channel_id or "", name),
                drop_none({"tags": p.get("tags"), "notes": p.get("notes")}))
    if kind in ("pagerduty", "opsgenie"):
        who = p["service"] if kind == "pagerduty" else p["team"]
        return _specific(who), drop_none({"priority": p.get("priority")})
    if kind == "msteams":
        return _specific(p.get("channel_id") or p["channel"], p["channel"]), {}
    if kind == "discord":
        return _specific(p["channel_id"]), drop_none({"tags": p.get("tags")})
    if kind in TICKETS:
        return _specific(None), {"additionalFields": camelize(p.get("fields") or {})}
    if kind == "webhook":
        return _specific(p["service"]), {}
    if kind == "sentry_app":
        config = {"targetType": "sentry_app", "targetIdentifier": str(p["app"]),
                  "targetDisplay": p.get("name")}
        return config, drop_none({"settings": p.get("settings")})
    return {}, {}


# ---- request body or live action -> friendly form ---------------------------------------

def action_friendly(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    """The friendly form of an API action; Sentry's own form where none fits."""
    kind = data.get("type")
    config = camelize(data.get("config") or {})
    extra = camelize(data.get("data") or {})
    integration = data.get("integrationId")
    ident, display = config.get("targetIdentifier"), config.get("targetDisplay")
    target = config.get("targetType")
    name = (integration_name_for(integration, PROVIDER[str(kind)], directory)
            if kind in INTEGRATED and integration is not None else None)
    if kind == "email" and target == "issue_owners":
        fallthrough = extra.get("fallthroughType")
        return {"email": drop_none({"target_type": "issue_owners", "fallthrough":
                                    None if fallthrough in (None, "ActiveMembers")
                                    else fallthrough})}
    if kind == "email" and target in ("team", "user") and ident is not None:
        ref = team_ref(ident, directory) if target == "team" else user_ref(ident, directory)
        return {"email": {str(target): ref}}
    if kind == "slack" and target == "specific":
        channel = display or slack_name_for_id(directory, integration, str(ident)) or ident
        return {"slack": drop_none({"channel": slack_channel_name(str(channel)),
                                    "workspace": name, "tags": extra.get("tags"),
                                    "notes": extra.get("notes")})}
    if kind in ("pagerduty", "opsgenie") and target == "specific" and ident is not None:
        who = "service" if kind == "pagerduty" else "team"
        return {str(kind): drop_none({who: str(ident), "account": name,
                                      "priority": extra.get("priority")})}
    if kind == "msteams" and target == "specific":
        return {"msteams": drop_none({"channel": display or ident, "team": name})}
    if kind == "discord" and target == "specific" and ident is not None:
        return {"discord": drop_none({"channel_id": str(ident), "server": name,
                                      "tags": extra.get("tags")})}
    if kind in TICKETS:
        return {str(kind): drop_none({"integration": name, "fields":
                                      extra.get("additionalFields") or None})}
    if kind == "webhook" and ident is not None:
        return {"webhook": {"service": str(ident)}}
    if kind == "sentry_app" and ident is not None:
        return {"sentry_app": drop_none({"app": str(ident), "settings": extra.get("settings")})}
    if kind == "plugin":
        return {"plugin": {}}
    return {"type": kind, **drop_none({
        "integration_id": None if integration is None else str(integration),
        "config": snakify({k: v for k, v in config.items() if k != "targetDisplay"}) or None,
        "data": snakify(extra) or None})}


def action_match_key(data: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a live action for id echoing: type, integration, target."""
    config = data.get("config") or {}
    return (data.get("type"), str(data.get("integrationId")), config.get("targetType"),
            str(config.get("targetIdentifier")))
