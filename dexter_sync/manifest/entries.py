"""Section entries -> DesiredResources: type tags, defaults, validation, keys, children.

Driven by the kind registry only: a section's kinds come from the registry, a child's
kind from `children()`. Duplicate natural keys are reported naming both places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.diagnostics import Diagnostic, did_you_mean
from ..core.sources import FieldPath, SourceSpan
from ..core.state import DesiredResource
from ..kinds.base import ResourceKind
from ..kinds.registry import get_kind, kinds_in_section
from .positions import Located, YamlDocument
from .validating import field_names, validate_mapping


@dataclass
class Defaults:
    """`defaults:` of dexter.yaml: global values and per-section values, with their places."""

    common: dict[str, Any] = field(default_factory=dict)
    by_section: dict[str, dict[str, Any]] = field(default_factory=dict)
    spans: dict[FieldPath, Located] = field(default_factory=dict)
    """Positions in dexter.yaml, by path below `defaults` (`("frequency",)`,
    `("issue_alerts", "frequency")`)."""

    def for_section(self, section: str) -> list[tuple[str, Any, Located | None]]:
        values = [(k, v, self.spans.get((k,))) for k, v in self.common.items()]
        values += [(k, v, self.spans.get((section, k)))
                   for k, v in self.by_section.get(section, {}).items()]
        return values


@dataclass
class EntryCollector:
    """Accumulates resources over every file, and the first place each natural key was seen."""

    defaults: Defaults = field(default_factory=Defaults)
    resources: list[DesiredResource] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    _seen: dict[tuple[str, str], SourceSpan | None] = field(default_factory=dict)

    def add_section(self, section: str, items: Any, document: YamlDocument) -> None:
        if items is None:
            return
        if not isinstance(items, list):
            self.problems.append(Diagnostic(
                "invalid-section", f"{section} must be a list of entries",
                span=document.span((section,), key=False), path=(section,)))
            return
        kinds = kinds_in_section(section)
        for index, item in enumerate(items):
            self._add_entry(section, kinds, item, document, (section, index))

    def _add_entry(self, section: str, kinds: list[ResourceKind[Any]], item: Any,
                   document: YamlDocument, base: FieldPath) -> None:
        where = document.span(base, key=False)
        if not isinstance(item, dict):
            self.problems.append(Diagnostic(
                "invalid-entry", f"each entry of {section} must be a mapping of fields",
                span=where, path=base))
            return
        kind = self._choose_kind(section, kinds, item, document, base)
        if kind is None:
            return
        data = {k: v for k, v in item.items() if not (kind.type_tag and k == "type")}
        self._apply_defaults(section, kind, data, document, base)
        entry, problems = validate_mapping(kind.entry_model, data, document, base)
        if entry is None:
            self.problems.extend(problems)
            return
        try:
            key = kind.key(entry)
            children = kind.children(entry)
        except Exception as error:  # noqa: BLE001 -- a kind hook refusing an entry its model accepted
            self.problems.append(Diagnostic("invalid-entry", f"invalid entry: {error}",
                                            span=where, path=base))
            return
        spans = _field_spans(data, document, base)
        self._remember(DesiredResource(kind.name, key, entry, span=where, field_spans=spans),
                       base)
        for child_kind_name, child, child_path in children:
            child_kind = get_kind(child_kind_name)
            try:
                child_key = child_kind.key(child)
            except Exception as error:  # noqa: BLE001 -- as above, for a child entry
                self.problems.append(Diagnostic(
                    "invalid-entry", f"invalid entry: {error}",
                    span=document.span((*base, *child_path), key=False),
                    path=(*base, *child_path)))
                continue
            self._remember(DesiredResource(
                child_kind_name, child_key, child,
                span=document.span((*base, *child_path), key=False),
                field_spans=_rebase(spans, tuple(child_path)), parent_key=key,
            ), (*base, *child_path))

    def _choose_kind(self, section: str, kinds: list[ResourceKind[Any]], item: dict[str, Any],
                     document: YamlDocument, base: FieldPath) -> ResourceKind[Any] | None:
        tagged = {k.type_tag: k for k in kinds if k.type_tag}
        if not tagged:
            return kinds[0]
        tag = item.get("type")
        choices = ", ".join(sorted(tagged))
        if tag is None:
            self.problems.append(Diagnostic(
                "missing-type", f"entries of {section} need a `type`: one of {choices}",
                span=document.span(base, key=False), path=(*base, "type")))
            return None
        if not isinstance(tag, str) or tag not in tagged:
            hint = did_you_mean(str(tag), tagged) if isinstance(tag, str) else None
            self.problems.append(Diagnostic(
                "unknown-type", f"unknown type {tag!r} in {section}; valid types: {choices}",
                span=document.span((*base, "type"), key=False), path=(*base, "type"),
                hint=hint))
            return None
        return tagged[tag]

    def _apply_defaults(self, section: str, kind: ResourceKind[Any], data: dict[str, Any],
                        document: YamlDocument, base: FieldPath) -> None:
        """Fill fields the entry does not set; their positions point into dexter.yaml."""
        names = field_names(kind.entry_model)
        for name, value, located in self.defaults.for_section(section):
            if name in names and name not in data:
                data[name] = value
                if located is not None:
                    document.spans[(*base, name)] = located

    def _remember(self, resource: DesiredResource, base: FieldPath) -> None:
        identity = (resource.kind, resource.key)
        if identity in self._seen:
            first = self._seen[identity]
            self.problems.append(Diagnostic(
                "duplicate-key",
                f"{resource.kind} {resource.key!r} is declared twice: first at {first}, "
                f"again at {resource.span}",
                span=resource.span, path=base,
                hint="natural keys identify objects in Sentry; rename or remove one entry"))
            return
        self._seen[identity] = resource.span
        self.resources.append(resource)


def _field_spans(data: dict[str, Any], document: YamlDocument,
                 base: FieldPath) -> dict[FieldPath, SourceSpan]:
    """Position of every declared field of one entry, by path relative to the entry."""
    spans: dict[FieldPath, SourceSpan] = {}
    stack: list[tuple[FieldPath, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if path:
            located = document.spans.get((*base, *path))
            if located is not None:
                spans[path] = located.key or located.value
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
    return spans


def _rebase(spans: dict[FieldPath, SourceSpan], prefix: FieldPath) -> dict[FieldPath, SourceSpan]:
    n = len(prefix)
    return {p[n:]: s for p, s in spans.items() if p[:n] == prefix and len(p) > n}
