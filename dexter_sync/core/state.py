"""Desired state (from manifests) and live state (from Sentry), keyed by kind and natural key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from .directory import Directory
from .sources import FieldPath, SourceSpan


@dataclass
class DesiredResource:
    """One manifest entry (or a child of one, such as a release's deploy)."""

    kind: str
    key: str
    entry: BaseModel
    span: SourceSpan | None = None
    """Where the entry starts."""
    field_spans: dict[FieldPath, SourceSpan] = field(default_factory=dict)
    """Where each declared field is, by manifest field path."""
    parent_key: str | None = None

    def span_for(self, path: FieldPath) -> SourceSpan | None:
        """The closest declared position for a field path (its longest declared prefix)."""
        for n in range(len(path), 0, -1):
            span = self.field_spans.get(tuple(path[:n]))
            if span is not None:
                return span
        return self.span


@dataclass
class ManifestSettings:
    """`dexter.yaml` after loading (the parts the planner and apply need)."""

    organization: str
    root: str
    vars: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    prune: dict[str, bool | list[str]] = field(default_factory=dict)
    """kind section -> True (prune all) / list of project slugs / False"""
    max_delete_percent: float = 30.0
    max_update_percent: float = 50.0
    min_existing: int = 10


@dataclass
class DesiredState:
    settings: ManifestSettings
    resources: list[DesiredResource] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[DesiredResource]:
        return [r for r in self.resources if r.kind == kind]



@dataclass
class LiveObject:
    """One object as Sentry returned it (raw JSON), with its identity resolved."""

    kind: str
    key: str
    id: str
    data: dict[str, Any]
    project: str | None = None
    """Project slug for project-scoped kinds."""


@dataclass
class LiveState:
    directory: Directory
    objects: dict[str, list[LiveObject]] = field(default_factory=dict)
    """kind name -> objects (every kind that was read, possibly empty)"""

    def of_kind(self, kind: str) -> list[LiveObject]:
        return self.objects.get(kind, [])
