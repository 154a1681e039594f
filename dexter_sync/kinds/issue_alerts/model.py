"""The `issue_alerts` manifest model: rule fields plus condition, filter and action nodes.

A node is written three ways: a bare short name for a node without parameters
(`first_seen_event`), a one-key mapping of short name to parameters
(`{event_frequency: {value: 100, interval: 1h}}`), or Sentry's own form
(`{id: sentry.rules.conditions...., ...fields}`; known ids get their fields checked).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from ...core.directory import Directory
from ..base import EntryModel
from ..fields import (
    RAW_DESCRIPTION,
    Duration,
    Owner,
    RuleName,
    exactly_one,
    minutes_in_range,
    raw_keys,
)
from .nodes import BY_ID, BY_SHORT, CATALOGUE, SERVER_KEYS, Role
from .params import Empty

MATCHES = ("all", "any", "none")
MODELLED_KEYS = {"name", "actionMatch", "filterMatch", "frequency", "environment", "owner",
                 "conditions", "filters", "actions", "projects"}
_NO_DIRECTORY = Directory(organization="")


class SentryNode(BaseModel):
    """Sentry's own node form: `id` (the rule class path) plus the node's form fields."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, description="Rule class path, e.g. "
                    "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition.")

    @model_validator(mode="after")
    def _known_fields(self, info: ValidationInfo) -> SentryNode:
        spec = BY_ID.get(self.id)
        if spec is None or spec.params is None or _is_live(info):
            return self
        fields = {k: v for k, v in (self.model_extra or {}).items() if k not in SERVER_KEYS}
        try:
            spec.params.model_validate(spec.from_sentry(fields, _NO_DIRECTORY))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            message = str(first["msg"]).replace("Input should be ", "expected ")
            raise ValueError(f"{spec.short} ({self.id}): "
                             f"{where + ': ' if where else ''}{message}") from None
        return self

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k != "name"}


def _is_live(info: ValidationInfo) -> bool:
    """Built from a live object: what Sentry holds must stay readable (no manifest rules)."""
    return bool(info.context and info.context.get("live"))


@functools.cache
def _node_fields(model: type[BaseModel]) -> dict[str, Any]:
    # pydantic's `model_fields` is a costly property, and every node asks for it twice
    return dict(model.model_fields)


class OneKeyNode(EntryModel):
    @model_validator(mode="after")
    def _one(self) -> OneKeyNode:
        exactly_one(self, _node_fields(type(self)), what="a node")
        return self

    def chosen(self) -> tuple[str, dict[str, Any]]:
        """(short name, friendly parameters as a dict)."""
        name = exactly_one(self, _node_fields(type(self)), what="a node")
        params = getattr(self, name)
        if params is None or isinstance(params, Empty):
            return name, {}
        return name, params.model_dump(exclude_none=True)


def _node_model(name: str, roles: tuple[Role, ...], extra: tuple[str, ...] = ()) -> Any:
    specs = [s for s in CATALOGUE if s.role in roles or s.short in extra]
    fields: dict[str, Any] = {
        s.short: ((s.params or Empty) | None, Field(None, description=s.id)) for s in specs
    }
    friendly = create_model(name, __base__=OneKeyNode, **fields)
    bare = tuple(s.short for s in specs if s.params is None)

    def pick(value: Any) -> str:
        if isinstance(value, str):
            return "bare"
        if isinstance(value, dict):
            return "sentry" if "id" in value else "friendly"
        return "sentry" if isinstance(value, SentryNode) else "friendly"

    return Annotated[
        Annotated[Literal[bare], Tag("bare")]
        | Annotated[friendly, Tag("friendly")]
        | Annotated[SentryNode, Tag("sentry")],
        Discriminator(pick),
    ]


# EventAttributeCondition is a filter Sentry still accepts under conditions (its class path
# says "conditions"); it is compared as a filter.
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    ConditionItem = Any
else:
    ConditionItem = _node_model("ConditionNode", ("condition",), extra=("event_attribute",))
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    FilterItem = Any
else:
    FilterItem = _node_model("FilterNode", ("filter",))
if TYPE_CHECKING:  # built at run time; the type checker sees the value type
    ActionItem = Any
else:
    ActionItem = _node_model("ActionNode", ("action",))


class IssueAlertEntry(EntryModel):
    """An issue alert rule (project level; natural key: `<project>/<name>`)."""

    name: RuleName
    project: str = Field(min_length=1, description="Project slug.")
    action_match: Literal[MATCHES] = Field(  # type: ignore[valid-type]
        "all", description="How conditions combine.")
    filter_match: Literal[MATCHES] | None = Field(  # type: ignore[valid-type]
        None, description="How filters combine; sent as `all` when not declared.")
    frequency: Duration = Field(30, description="Minimum time between notifications for an "
                                "issue: 5m..30d (5..43200 minutes).")
    environment: str | None = Field(None, description="Environment name; all when absent.")
    owner: Owner | None = Field(None, description="`team:<slug>` or `user:<email>`.")
    conditions: list[ConditionItem] = Field(
        default_factory=list, description="When the rule fires: a short name, "
        "`{short_name: {parameters}}`, or Sentry's `{id: ..., ...}`.")
    filters: list[FilterItem] = Field(
        default_factory=list, description="What an issue must match (same three forms).")
    actions: list[ActionItem] = Field(description="At least one action.",
                                      json_schema_extra={"minItems": 1})
    raw: raw_keys(MODELLED_KEYS) = Field(None, description=RAW_DESCRIPTION)  # type: ignore[valid-type]

    @field_validator("frequency")
    @classmethod
    def _frequency(cls, value: Any) -> Any:
        minutes_in_range(value, 5, 43200, what="frequency")
        return value

    @field_validator("actions")
    @classmethod
    def _some_action(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        # Sentry's rule; a live rule whose actions named a deleted integration has none
        if not value and not _is_live(info):
            raise ValueError("You must add an action for this alert to fire.")
        return value

    @model_validator(mode="after")
    def _roles(self) -> IssueAlertEntry:
        allowed: dict[str, tuple[Role, ...]] = {
            "conditions": ("condition",), "filters": ("filter",), "actions": ("action",)}
        for list_name, roles in allowed.items():
            for index, node in enumerate(getattr(self, list_name)):
                if not isinstance(node, SentryNode):
                    continue
                spec = BY_ID.get(node.id)
                if spec is None or spec.role in roles or spec.short == "event_attribute" \
                        and list_name == "conditions":
                    continue
                raise ValueError(f"{list_name}[{index}]: {spec.short} ({node.id}) is "
                                 f"{'an' if spec.role == 'action' else 'a'} {spec.role}; "
                                 f"declare it under {spec.role}s")
        return self


def short_of(node: Any) -> str | None:
    """The catalogue short name of a manifest node, or None for an unknown Sentry id."""
    if isinstance(node, str):
        return node
    if isinstance(node, SentryNode):
        spec = BY_ID.get(node.id)
        return spec.short if spec else None
    return cast("str | None", node.chosen()[0])


__all__ = [
    "BY_SHORT",
    "ActionItem",
    "ConditionItem",
    "FilterItem",
    "IssueAlertEntry",
    "SentryNode",
    "short_of",
]
