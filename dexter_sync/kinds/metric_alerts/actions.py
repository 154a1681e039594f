"""Metric-alert trigger actions: the friendly manifest forms, Sentry's own form, and the two
conversions (manifest -> request body, request body or live action -> friendly form).

Comparison goes through `action_friendly` on both sides: the desired action's payload and the
live action become the same friendly dict (names instead of ids, `#channel`, priorities with
Sentry's defaults filled in), so a Slack channel returned as display name + id, or a PagerDuty
service returned as an int, compares equal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr, model_validator

from ...core.directory import Directory
from ..base import EntryModel
from ..fields import (
    drop_none,
    exactly_one,
    int_or_str,
    integration_id_for,
    integration_name_for,
    one_key_union,
    slack_channel_id,
    slack_channel_name,
    slack_channel_ref,
    sorted_canonical,
    team_id_for,
    team_ref,
    user_id_for,
    user_ref,
)

Id = StrictInt | StrictStr

ACTION_TYPES = ("email", "slack", "msteams", "pagerduty", "opsgenie", "discord", "sentry_app",
                "sentry_notification")
TARGET_TYPES = ("specific", "user", "team", "sentry_app")
PAGERDUTY_PRIORITIES = ("critical", "warning", "error", "info")
OPSGENIE_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
# Sentry fills these when a pagerduty/opsgenie action has no priority (REFERENCE §1.2).
DEFAULT_PRIORITY = {
    "pagerduty": {"critical": "critical", "warning": "warning"},
    "opsgenie": {"critical": "P1", "warning": "P2"},
}


class SlackTarget(EntryModel):
    channel: str = Field(min_length=1, description="`#channel`, `@user`, or a Slack channel id.")
    workspace: Id | None = Field(None, description="Slack integration name or id; optional when "
                                 "exactly one Slack workspace is installed.")
    channel_id: str | None = Field(None, description="Slack channel id (sent as inputChannelId).")


class EmailTarget(EntryModel):
    team: Id | None = Field(None, description="Team slug (or Sentry team id).")
    user: Id | None = Field(None, description="Member email (or Sentry user id).")

    @model_validator(mode="after")
    def _one(self) -> EmailTarget:
        exactly_one(self, ("team", "user"), what="email action")
        return self


class PagerDutyTarget(EntryModel):
    service: Id = Field(description="PagerDuty service id.")
    account: Id | None = Field(None, description="PagerDuty integration name or id.")
    priority: Literal[PAGERDUTY_PRIORITIES] | None = None  # type: ignore[valid-type]


class OpsgenieTarget(EntryModel):
    team: Id = Field(description="Opsgenie team id.")
    account: Id | None = Field(None, description="Opsgenie integration name or id.")
    priority: Literal[OPSGENIE_PRIORITIES] | None = None  # type: ignore[valid-type]


class MsTeamsTarget(EntryModel):
    channel: str = Field(min_length=1)
    team: Id | None = Field(None, description="Microsoft Teams integration name or id.")


class DiscordTarget(EntryModel):
    channel_id: Id
    server: Id | None = Field(None, description="Discord integration name or id.")


class SettingItem(EntryModel):
    name: str
    value: Any = None


class SentryAppTarget(EntryModel):
    app: Id = Field(description="Sentry app id.")
    installation_uuid: str | None = None
    settings: list[SettingItem] | None = None


class FriendlyAction(EntryModel):
    """One trigger action by target, e.g. `{slack: {channel: "#alerts"}}`."""

    slack: SlackTarget | None = None
    email: EmailTarget | None = None
    pagerduty: PagerDutyTarget | None = None
    opsgenie: OpsgenieTarget | None = None
    msteams: MsTeamsTarget | None = None
    discord: DiscordTarget | None = None
    sentry_app: SentryAppTarget | None = None

    @model_validator(mode="after")
    def _one(self) -> FriendlyAction:
        exactly_one(self, FRIENDLY_ACTIONS, what="a trigger action")
        return self


FRIENDLY_ACTIONS = ("slack", "email", "pagerduty", "opsgenie", "msteams", "discord", "sentry_app")


class SentryAction(EntryModel):
    """Sentry's own action form (snake_case of its request keys)."""

    id: Id | None = None
    type: Literal[ACTION_TYPES]  # type: ignore[valid-type]
    target_type: Literal[TARGET_TYPES]  # type: ignore[valid-type]
    target_identifier: Id | None = None
    integration_id: Id | None = None
    input_channel_id: str | None = None
    sentry_app_id: Id | None = None
    sentry_app_installation_uuid: str | None = None
    settings: list[SettingItem] | None = None
    priority: str | None = None

    @model_validator(mode="after")
    def _priority(self) -> SentryAction:
        allowed = {"pagerduty": PAGERDUTY_PRIORITIES, "opsgenie": OPSGENIE_PRIORITIES}
        if self.priority is not None:
            if self.type not in allowed:
                raise ValueError("priority is only valid for pagerduty and opsgenie actions")
            if self.priority not in allowed[self.type]:
                raise ValueError(f"{self.type} priority must be one of "
                                 f"{', '.join(allowed[self.type])}, got {self.priority!r}")
        return self


TriggerAction = one_key_union(FriendlyAction, SentryAction, sentry_key="type")


# ---- manifest -> request body ------------------------------------------------------------

def action_payload(action: BaseModel, *, directory: Directory) -> dict[str, Any]:
    """The Sentry request form of one trigger action (camelCase)."""
    if isinstance(action, SentryAction):
        return _sentry_form_payload(action)
    assert isinstance(action, FriendlyAction)
    which = exactly_one(action, FRIENDLY_ACTIONS, what="a trigger action")
    target = getattr(action, which)
    return _FRIENDLY_PAYLOAD[which](target, directory)


def _sentry_form_payload(action: SentryAction) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": action.type,
        "targetType": action.target_type,
        "targetIdentifier": action.target_identifier,
    }
    optional = {
        "id": action.id,
        "integrationId": int_or_str(action.integration_id),
        "inputChannelId": action.input_channel_id,
        "sentryAppId": int_or_str(action.sentry_app_id),
        "sentryAppInstallationUuid": action.sentry_app_installation_uuid,
        "settings": [s.model_dump() for s in action.settings] if action.settings else None,
        "priority": action.priority,
    }
    return {**body, **drop_none(optional)}


def _slack(t: SlackTarget, d: Directory) -> dict[str, Any]:
    integration = integration_id_for(t.workspace, "slack", d)
    channel = slack_channel_name(t.channel)
    body = {"type": "slack", "targetType": "specific", "targetIdentifier": channel,
            "integrationId": int_or_str(integration)}
    channel_id = t.channel_id or slack_channel_id(d, integration, channel)
    if channel_id:
        body["inputChannelId"] = channel_id
    return body


def _email(t: EmailTarget, d: Directory) -> dict[str, Any]:
    if t.team is not None:
        return {"type": "email", "targetType": "team", "targetIdentifier": team_id_for(t.team, d)}
    assert t.user is not None  # the model requires exactly one of team and user
    return {"type": "email", "targetType": "user", "targetIdentifier": user_id_for(t.user, d)}


def _pagerduty(t: PagerDutyTarget, d: Directory) -> dict[str, Any]:
    body = {"type": "pagerduty", "targetType": "specific",
            "targetIdentifier": int_or_str(t.service),
            "integrationId": int_or_str(integration_id_for(t.account, "pagerduty", d))}
    return {**body, **drop_none({"priority": t.priority})}


def _opsgenie(t: OpsgenieTarget, d: Directory) -> dict[str, Any]:
    body = {"type": "opsgenie", "targetType": "specific", "targetIdentifier": str(t.team),
            "integrationId": int_or_str(integration_id_for(t.account, "opsgenie", d))}
    return {**body, **drop_none({"priority": t.priority})}


def _msteams(t: MsTeamsTarget, d: Directory) -> dict[str, Any]:
    return {"type": "msteams", "targetType": "specific", "targetIdentifier": t.channel.strip(),
            "integrationId": int_or_str(integration_id_for(t.team, "msteams", d))}


def _discord(t: DiscordTarget, d: Directory) -> dict[str, Any]:
    return {"type": "discord", "targetType": "specific", "targetIdentifier": str(t.channel_id),
            "integrationId": int_or_str(integration_id_for(t.server, "discord", d))}


def _sentry_app(t: SentryAppTarget, d: Directory) -> dict[str, Any]:
    body = {"type": "sentry_app", "targetType": "sentry_app",
            "targetIdentifier": int_or_str(t.app), "sentryAppId": int_or_str(t.app)}
    optional = {"sentryAppInstallationUuid": t.installation_uuid,
                "settings": [s.model_dump() for s in t.settings] if t.settings else None}
    return {**body, **drop_none(optional)}


_FRIENDLY_PAYLOAD: dict[str, Callable[[Any, Directory], dict[str, Any]]] = {
    "slack": _slack, "email": _email, "pagerduty": _pagerduty, "opsgenie": _opsgenie,
    "msteams": _msteams, "discord": _discord, "sentry_app": _sentry_app,
}


# ---- request body or live action -> friendly form ---------------------------------------

def action_friendly(data: dict[str, Any], *, label: str, directory: Directory) -> dict[str, Any]:
    """The friendly form of a Sentry action (request body or live), Sentry's own form
    (snake_case, without server ids) where no friendly form exists."""
    kind = data.get("type")
    target_type = data.get("targetType")
    ident = data.get("targetIdentifier")
    integration = data.get("integrationId")
    if kind == "email" and target_type == "team" and ident is not None:
        return {"email": {"team": team_ref(ident, directory)}}
    if kind == "email" and target_type == "user" and ident is not None:
        return {"email": {"user": user_ref(ident, directory)}}
    if kind == "slack" and target_type == "specific" and ident is not None:
        return {"slack": {
            "channel": slack_channel_ref(directory, integration, str(ident),
                                         data.get("inputChannelId")),
            "workspace": integration_name_for(integration, "slack", directory),
        }}
    if kind in ("pagerduty", "opsgenie") and target_type == "specific" and ident is not None:
        priority = data.get("priority") or DEFAULT_PRIORITY[kind].get(label)
        who = "service" if kind == "pagerduty" else "team"
        return {kind: drop_none({
            who: str(ident),
            "account": integration_name_for(integration, kind, directory),
            "priority": priority,
        })}
    if kind == "msteams" and target_type == "specific" and ident is not None:
        return {"msteams": {"channel": str(ident).strip(),
                            "team": integration_name_for(integration, "msteams", directory)}}
    if kind == "discord" and target_type == "specific" and ident is not None:
        return {"discord": {"channel_id": str(ident),
                            "server": integration_name_for(integration, "discord", directory)}}
    if kind == "sentry_app" and (data.get("sentryAppId") or ident) is not None:
        return {"sentry_app": drop_none({
            "app": str(data.get("sentryAppId") or ident),
            "installation_uuid": data.get("sentryAppInstallationUuid"),
            "settings": _settings(data.get("settings")),
        })}
    return {"type": kind, "target_type": target_type, **drop_none({
        "target_identifier": None if ident is None else str(ident),
        "integration_id": None if integration is None else str(integration),
        "sentry_app_id": None if data.get("sentryAppId") is None else str(data["sentryAppId"]),
        "sentry_app_installation_uuid": data.get("sentryAppInstallationUuid"),
        "settings": _settings(data.get("settings")),
        "priority": data.get("priority"),
    })}


def _settings(value: Any) -> list[dict[str, Any]] | None:
    if not value:
        return None
    return sorted_canonical({"name": s.get("name"), "value": s.get("value")} for s in value)


def without_default_priority(action: dict[str, Any], label: str) -> dict[str, Any]:
    """Export leaves out the priority Sentry assumes anyway (canonical fills it back in)."""
    for kind, params in action.items():
        if kind in DEFAULT_PRIORITY and isinstance(params, dict) \
                and params.get("priority") == DEFAULT_PRIORITY[kind].get(label):
            return {kind: {k: v for k, v in params.items() if k != "priority"}}
    return action


def id_order(action: dict[str, Any]) -> tuple[int, str]:
    """Live actions in creation order (numeric ids first), as export lists them."""
    ident = str(action.get("id", ""))
    return (int(ident), "") if ident.isdigit() else (0, ident)


# ---- updates keep Sentry's ids ----------------------------------------------------------

def _match_key(data: dict[str, Any]) -> tuple[Any, ...]:
    ident = data.get("targetIdentifier")
    if data.get("type") == "slack":
        ident = data.get("inputChannelId") or slack_channel_name(str(ident))
    return (data.get("type"), data.get("targetType"), str(ident),
            str(data.get("integrationId")))


def echo_action_ids(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
    """Give desired actions the ids of the live actions they stand for (in place), so a PUT
    updates actions instead of recreating them (REFERENCE §1.4)."""
    unused = [a for a in live if a.get("id") is not None]
    for wanted in (_match_key, lambda a: (a.get("type"),)):
        for action in desired:
            if "id" in action:
                continue
            key = wanted(action)
            match = next((a for a in unused if wanted(a) == key), None)
            if match is not None:
                action["id"] = match["id"]
                unused.remove(match)
