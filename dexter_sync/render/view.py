"""PlanView: the one neutral view every formatter reads (terraform's views habit).

Built once from a Plan: summary counts, changes with their field diffs and manifest
positions, notes, safety findings and the cosmetic tally. Values under sensitive-looking
keys (`token`, `secret`, `password`, ...) are masked here, so no formatter can leak them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..core.changes import Action, NoteReason, Plan, ResourceChange
from ..core.durations import Minutes
from ..core.sources import format_path

SENSITIVE = re.compile(r"token|secret|password|passwd|api_?key|authorization|credential",
                       re.IGNORECASE)
MASK = "(sensitive)"
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-", Action.NOOP: " "}


def redact(value: Any) -> Any:
    """A copy of `value` as plans show it: the values of sensitive-looking keys masked,
    durations (compared as minutes) in their friendly spelling (`5m`, `1h`)."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and SENSITIVE.search(k) else redact(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, Minutes):
        return str(value)
    return value


class _ManifestDumper(yaml.SafeDumper):
    """YAML as a user writes manifests. A string with a control, format or line-break
    character is double-quoted and that character escaped (`_escape_unprintable`), so a
    value can never start a new line, move the cursor or reorder text in a plan."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a plan shows values, never `&id001` anchors


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None if text.isprintable() else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ManifestDumper.add_representer(str, _represent_str)


def _escape_unprintable(text: str) -> str:
    """PyYAML lets some format characters (RTL overrides) through unescaped; they can only
    stand inside double-quoted scalars here, where `\\uXXXX` is a valid escape."""
    return "".join(c if c.isprintable() or c == "\n" else f"\\u{ord(c):04x}" for c in text)


def _dump(value: Any, *, flow: bool) -> str:
    text = yaml.dump(value, Dumper=_ManifestDumper, default_flow_style=True if flow else None,
                     sort_keys=False, allow_unicode=True, width=10**9 if flow else 100)
    return _escape_unprintable(text.removesuffix("\n").removesuffix("\n...").rstrip("\n"))


def show(value: Any) -> str:
    """One value on one line in the manifests' own YAML flow style (`{channel: '#sre'}`,
    `[backend]`); strings that would read as another type stay quoted (`'80'` vs `80`)."""
    return _dump(value, flow=True)


def show_block(value: Any, width: int = 72) -> str:
    """A value for a create or delete listing, after its `name:`: on the same line when
    short, else a YAML block on the following lines (a nested trigger stays readable)."""
    text = show(value)
    if len(text) <= width or not isinstance(value, (dict, list)):
        return " " + text
    return "\n" + _dump(value, flow=False)


@dataclass
class DiffLine:
    path: str
    before: Any
    after: Any
    where: str | None = None

    @property
    def before_text(self) -> str:
        return show(self.before)

    @property
    def after_text(self) -> str:
        return show(self.after)


@dataclass
class ChangeView:
    action: str
    symbol: str
    kind: str
    key: str
    project: str | None
    where: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    diff: list[DiffLine] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.key}"

    @property
    def fields(self) -> list[tuple[str, str]]:
        """Top-level fields of the object shown for a create (after) or delete (before)."""
        shown = self.after if self.action == "create" else self.before
        return [(k, show_block(v)) for k, v in (shown or {}).items()]


@dataclass
class NoteView:
    reason: str
    kind: str
    key: str
    live_ids: list[str]
    project: str | None

    @property
    def address(self) -> str:
        return f"{self.kind}/{self.key}"


@dataclass
class FindingView:
    code: str
    kind: str
    key: str | None
    message: str


@dataclass
class PlanView:
    organization: str
    summary: dict[str, int]
    changes: list[ChangeView]
    notes: list[NoteView]
    safety: list[FindingView]
    cosmetic: dict[str, int]
    cosmetic_details: list[str]
    unchanged_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def cosmetic_total(self) -> int:
        return sum(self.cosmetic.values())


def summary_of(plan: Plan) -> dict[str, int]:
    """The summary object of the stable JSON (its six keys first, in DESIGN.md's order)."""
    summary = {
        "create": plan.count(Action.CREATE),
        "update": plan.count(Action.UPDATE),
        "delete": plan.count(Action.DELETE),
        "unchanged": plan.unchanged,
        "unmanaged": plan.count_notes(NoteReason.UNMANAGED),
        "ambiguous": plan.count_notes(NoteReason.AMBIGUOUS),
    }
    immutable = plan.count_notes(NoteReason.IMMUTABLE)
    if immutable:
        summary["immutable"] = immutable
    return summary


def _change_view(change: ResourceChange) -> ChangeView:
    return ChangeView(
        action=change.action.value,
        symbol=SYMBOLS[change.action],
        kind=change.kind,
        key=change.key,
        project=change.project,
        where=str(change.span) if change.span else None,
        before=redact(change.before) if change.before is not None else None,
        after=redact(change.after) if change.after is not None else None,
        diff=[DiffLine(format_path(d.path), _redact_leaf(d.path, d.before),
                       _redact_leaf(d.path, d.after), str(d.span) if d.span else None)
              for d in change.diff],
    )


def _redact_leaf(path: tuple[Any, ...], value: Any) -> Any:
    named = [p for p in path if isinstance(p, str)]
    if named and SENSITIVE.search(named[-1]):
        return MASK
    return redact(value)


def build_view(plan: Plan) -> PlanView:
    return PlanView(
        organization=plan.organization,
        summary=summary_of(plan),
        changes=[_change_view(c) for c in plan.changes if c.action is not Action.NOOP],
        notes=[NoteView(n.reason.value, n.kind, n.key, list(n.live_ids), n.project)
               for n in plan.notes],
        safety=[FindingView(f.code, f.kind, f.key, f.message) for f in plan.safety],
        cosmetic=dict(plan.cosmetic),
        cosmetic_details=list(plan.cosmetic_details),
        unchanged_by_kind=dict(plan.unchanged_by_kind),
    )
