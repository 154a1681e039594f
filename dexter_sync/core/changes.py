"""The closed change model: what a plan proposes and what apply executes.

Like terraform's plans.Action: an Action drives apply; notes (unmanaged, ambiguous) and
cosmetic counts only explain the plan to humans and never drive a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .sources import FieldPath, SourceSpan, format_path


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no-op"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FieldChange:
    """One differing field, in manifest field names (never deepdiff's `root[...]` strings)."""

    path: FieldPath
    before: Any
    after: Any
    span: SourceSpan | None = None
    """Where the manifest declares this field (its closest declared parent), when known."""

    @property
    def dotted(self) -> str:
        return format_path(self.path)


@dataclass
class ResourceChange:
    action: Action
    kind: str
    key: str
    before: dict[str, Any] | None = None
    """Normalized live object (manifest field names), None for create."""
    after: dict[str, Any] | None = None
    """Normalized desired object, None for delete."""
    diff: tuple[FieldChange, ...] = ()
    live_id: str | None = None
    project: str | None = None
    span: SourceSpan | None = None
    """Declaring manifest entry (None for deletes)."""
    payload: dict[str, Any] | None = None
    """Sentry request body for create/update, built at plan time so apply sends what was shown."""
    live: dict[str, Any] | None = None
    """Raw live object, for updates that must echo server ids (trigger ids, action uuids)."""
    parent_key: str | None = None

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.key}"


class NoteReason(str, Enum):
    UNMANAGED = "unmanaged"
    AMBIGUOUS = "ambiguous"
    IMMUTABLE = "immutable"
    """Declared and live differ, but the kind has no update endpoint (deploys)."""


@dataclass(frozen=True)
class PlanNote:
    reason: NoteReason
    kind: str
    key: str
    live_ids: tuple[str, ...] = ()
    project: str | None = None


@dataclass(frozen=True)
class SafetyFinding:
    """A threshold or gate the plan breaches; apply refuses it without --force."""

    code: str
    """`too-many-deletes`, `too-many-updates`, `match-everything`, `no-action`, `pager-delete`."""
    kind: str
    message: str
    key: str | None = None


@dataclass
class Plan:
    organization: str
    changes: list[ResourceChange] = field(default_factory=list)
    notes: list[PlanNote] = field(default_factory=list)
    unchanged: int = 0
    unchanged_by_kind: dict[str, int] = field(default_factory=dict)
    """Kind -> objects that need no change (the per-kind rows of summaries)."""
    safety: list[SafetyFinding] = field(default_factory=list)
    cosmetic: dict[str, int] = field(default_factory=dict)
    """Differences normalization suppressed, by class (`order`, `type`, `server-default`, ...)."""
    cosmetic_details: list[str] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    """`kind/key` -> hash of the normalized live object, for stale-plan detection."""
    manifest_path: str | None = None
    """The manifest directory the plan was made from (saved plans)."""
    kinds_read: list[str] = field(default_factory=list)
    """Kinds whose live state the plan read (apply re-reads the same scope)."""
    projects_read: list[str] = field(default_factory=list)
    """Project slugs read for project-scoped kinds."""

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    def count_notes(self, reason: NoteReason) -> int:
        return sum(1 for n in self.notes if n.reason is reason)

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)
