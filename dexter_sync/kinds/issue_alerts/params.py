"""Parameters of issue-alert conditions, filters and actions in their friendly forms.

Value lists are Sentry's own (REFERENCE §2.2; the node forms in src/sentry/rules/). Ids of
teams, members and integrations are written by slug, email and integration name.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator

from ..base import EntryModel

Id = StrictInt | StrictStr

INTERVALS = ("1m", "5m", "15m", "1h", "1d", "1w", "30d")
COMPARISON_INTERVALS = ("5m", "15m", "1h", "1d", "1w", "30d")
PERCENT_INTERVALS = ("5m", "10m", "30m", "1h")
MATCH_OPERATORS = ("eq", "ne", "sw", "ew", "co", "nc", "is", "ns")
LEVELS = {"fatal": "50", "error": "40", "warning": "30", "info": "20", "debug": "10",
          "sample": "0"}
CATEGORIES = {"error": 1, "performance": 2, "profile": 3, "cron": 4, "replay": 5}
FALLTHROUGH = {"active_members": "ActiveMembers", "all_members": "AllMembers",
               "no_one": "NoOne"}
PAGERDUTY_SEVERITIES = ("default", "critical", "warning", "error", "info")
OPSGENIE_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


class Empty(EntryModel):
    """A node without parameters (`{first_seen_event: {}}`; a bare string does the same)."""


class FrequencyParams(EntryModel):
    value: int = Field(ge=0, description="Number of events (or users) in the interval.")
    interval: Literal[INTERVALS]  # type: ignore[valid-type]
    comparison_type: Literal["count", "percent"] | None = None
    comparison_interval: Literal[COMPARISON_INTERVALS] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _percent(self) -> FrequencyParams:
        if self.comparison_type == "percent" and self.comparison_interval is None:
            raise ValueError("comparison_type percent needs comparison_interval")
        if self.comparison_type != "percent" and self.comparison_interval is not None:
            raise ValueError("comparison_interval is only used with comparison_type percent")
        return self


class PercentParams(EntryModel):
    value: float = Field(ge=0, description="Percent of sessions affected.")
    interval: Literal[PERCENT_INTERVALS]  # type: ignore[valid-type]
    comparison_type: Literal["count", "percent"] | None = None
    comparison_interval: Literal[COMPARISON_INTERVALS] | None = None  # type: ignore[valid-type]


class AgeParams(EntryModel):
    comparison_type: Literal["older", "newer"]
    value: int = Field(ge=0)
    time: Literal["minute", "hour", "day", "week"]


class OccurrencesParams(EntryModel):
    value: int = Field(ge=0)


def _check_target(node: str, other: str, target: str | None, team: Any, user: Any) -> None:
    """Sentry's target rules of assigned_to and email: a team, a member, or the `other`
    target that takes neither (the target may be left out when a team or user is given)."""
    target = target or ("team" if team is not None else "member" if user is not None else None)
    if target is None:
        raise ValueError(f"{node} needs target {other}, or a team or a user")
    if target == "team" and (team is None or user is not None):
        raise ValueError(f"{node} target team needs team (and no user)")
    if target == "member" and (user is None or team is not None):
        raise ValueError(f"{node} target member needs user (and no team)")
    if target == other and (team is not None or user is not None):
        raise ValueError(f"{node} target {other} takes no team or user")


class AssignedParams(EntryModel):
    target: Literal["unassigned", "team", "member"] | None = None
    team: Id | None = Field(None, description="Team slug (target team).")
    user: Id | None = Field(None, description="Member email (target member).")

    @model_validator(mode="after")
    def _target(self) -> AssignedParams:
        _check_target("assigned_to", "unassigned", self.target, self.team, self.user)
        return self


class CategoryParams(EntryModel):
    value: Literal["error", "performance", "profile", "cron", "replay", 1, 2, 3, 4, 5]


def _check_match(match: str, value: Any) -> None:
    if match not in ("is", "ns") and (value is None or str(value).strip() == ""):
        raise ValueError(f"match {match!r} needs a value (only is/ns take none)")


class AttributeParams(EntryModel):
    attribute: str = Field(min_length=1, description="e.g. message, exception.type, http.url.")
    match: Literal[MATCH_OPERATORS]  # type: ignore[valid-type]
    value: str | int | float | None = None

    @model_validator(mode="after")
    def _value(self) -> AttributeParams:
        _check_match(self.match, self.value)
        return self


class TaggedParams(EntryModel):
    key: str = Field(min_length=1, description="Tag key.")
    match: Literal[MATCH_OPERATORS]  # type: ignore[valid-type]
    value: str | int | float | None = None

    @model_validator(mode="after")
    def _value(self) -> TaggedParams:
        _check_match(self.match, self.value)
        return self


class LevelParams(EntryModel):
    match: Literal["eq", "gte", "lte"]
    level: Literal["fatal", "error", "warning", "info", "debug", "sample",
                   "50", "40", "30", "20", "10", "0", 50, 40, 30, 20, 10, 0]


class EmailParams(EntryModel):
    target: Literal["issue_owners", "team", "member"] | None = None
    team: Id | None = Field(None, description="Team slug (target team).")
    user: Id | None = Field(None, description="Member email (target member).")
    fallthrough: Literal["active_members", "all_members", "no_one"] | None = None

    @model_validator(mode="after")
    def _target(self) -> EmailParams:
        _check_target("email", "issue_owners", self.target, self.team, self.user)
        return self


def _tags(value: Any) -> Any:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return value


class SlackParams(EntryModel):
    channel: str = Field(min_length=1, description="`#channel`, `@user` or a channel id.")
    workspace: Id | None = Field(None, description="Slack integration name; optional when "
                                 "exactly one is installed.")
    channel_id: str | None = None
    tags: list[str] | str | None = Field(None, description="Tags to show: list or 'a,b'.")
    notes: str | None = None

    @field_validator("tags")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        return _tags(value)


class MsTeamsParams(EntryModel):
    channel: str = Field(min_length=1)
    team: Id | None = Field(None, description="Microsoft Teams integration name.")


class DiscordParams(EntryModel):
    channel_id: Id
    server: Id | None = Field(None, description="Discord integration name.")
    tags: list[str] | str | None = None

    @field_validator("tags")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        return _tags(value)


class TicketParams(EntryModel):
    """Jira / Jira Server: the create-ticket form; `fields` holds any further form keys."""

    integration: Id | None = Field(None, description="Integration name.")
    project: Id
    issuetype: Id
    dynamic_form_fields: list[Any] | None = None
    fields: dict[str, Any] | None = Field(None, description="Further form fields, as sent.")


class GitHubParams(EntryModel):
    integration: Id | None = Field(None, description="GitHub integration name.")
    repo: str
    title: str | None = None
    body: str | None = None
    assignee: str | None = None
    labels: list[str] | None = None
    fields: dict[str, Any] | None = None


class AzureParams(EntryModel):
    integration: Id | None = Field(None, description="Azure DevOps integration name.")
    project: Id
    work_item_type: str
    dynamic_form_fields: list[Any] | None = None
    fields: dict[str, Any] | None = None


class PagerDutyParams(EntryModel):
    account: Id | None = Field(None, description="PagerDuty integration name.")
    service: Id = Field(description="PagerDuty service id.")
    severity: Literal[PAGERDUTY_SEVERITIES] | None = None  # type: ignore[valid-type]


class OpsgenieParams(EntryModel):
    account: Id | None = Field(None, description="Opsgenie integration name.")
    team: Id = Field(description="Opsgenie team id.")
    priority: Literal[OPSGENIE_PRIORITIES] | None = None  # type: ignore[valid-type]


class ServiceParams(EntryModel):
    service: str = Field(min_length=1, description="Plugin or sentry-app slug.")


class SettingItem(EntryModel):
    name: str
    value: Any = None


class SentryAppParams(EntryModel):
    installation_uuid: str = Field(min_length=1)
    settings: list[SettingItem] | None = None
    has_schema_form_config: bool | None = None
