"""The planner: desired state + live state -> Plan (one fixed sequence, small kind hooks).

Per kind: match by natural key; create what is only declared, update what differs (the
canonical forms compared on the keys the manifest holds), delete what is only live where
prune applies, and note the rest (unmanaged, ambiguous, immutable). Then targets cut the
plan down, and safety findings are added. Pure: no I/O, no clock.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .changes import Action, FieldChange, NoteReason, Plan, PlanNote, ResourceChange
from .contract import KindCatalog, KindContract
from .cosmetics import CosmeticTally, tally_object
from .diagnostics import DexterError, Diagnostic, ValidationError, did_you_mean
from .diffing import diff_fields, restrict
from .directory import Directory
from .fingerprints import canonical_live, combine, fingerprint
from .safety import gate_findings, threshold_findings
from .state import DesiredResource, DesiredState, LiveObject, LiveState

Target = tuple[str, str | None]
"""(kind name, natural key or None for the whole kind)"""

_ACTION_ORDER = {Action.CREATE: 0, Action.UPDATE: 1, Action.DELETE: 2, Action.NOOP: 3}


@dataclass
class _Draft:
    """What the planner accumulates before targets filter it."""

    changes: list[ResourceChange] = field(default_factory=list)
    notes: list[PlanNote] = field(default_factory=list)
    unchanged: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(kind, key, parent key) of objects that need no change"""
    cosmetic: CosmeticTally | None = None
    """One tally for the whole plan (None: not counting); only targeted objects count."""
    targets: list[Target] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    addresses: set[tuple[str, str]] = field(default_factory=set)


def parse_targets(texts: Iterable[str], kinds: KindCatalog) -> list[Target]:
    """`KIND/KEY` or `KIND` (kind name or manifest section) -> targets; unknown kinds refused."""
    names = {k.name for k in kinds}
    sections = {k.section: [x.name for x in kinds if x.section == k.section] for k in kinds}
    targets: list[Target] = []
    for text in texts:
        head, sep, key = text.partition("/")
        if head in names:
            targets.append((head, key if sep else None))
        elif head in sections and not sep:
            targets.extend((name, None) for name in sections[head])
        else:
            hint = did_you_mean(head, sorted(names | set(sections)))
            raise DexterError(
                f"--target {text!r}: unknown kind {head!r} (expected KIND/KEY)"
                + (f"; {hint}" if hint else ""), code="unknown-target")
    return targets


def make_plan(desired: DesiredState, live: LiveState, *, kinds: KindCatalog,
              targets: Iterable[Target] = (),
              prune: Mapping[str, bool | list[str]] | None = None,
              cosmetics: bool = True) -> Plan:
    """Compare desired with live and propose changes (see the module docstring).

    `kinds` are the resource kinds of the run (`dexter_sync.kinds.registry.catalog()`)."""
    with _states_frozen():
        return _make_plan(desired, live, kinds, targets, prune, cosmetics)


@contextmanager
def _states_frozen() -> Iterator[None]:
    """Keep the garbage collector from rescanning the (large, long-lived) states.

    Planning allocates many small containers; each full collection it triggers walks every
    object alive, so with 10,000 resources about a quarter of the planner's time went to
    rescanning the input states. `gc.freeze` sets what exists now aside until the plan is
    made; cycles created while planning are still collected. A caller that froze objects
    itself is left alone (unfreezing would release its objects too).
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _make_plan(desired: DesiredState, live: LiveState, kinds: KindCatalog,
               targets: Iterable[Target], prune: Mapping[str, bool | list[str]] | None,
               cosmetics: bool) -> Plan:
    # dependencies first (releases before deploys): the order readers and apply expect
    order = {name: i for i, name in enumerate(kinds.apply_order())}
    refuse_two_models(desired, kinds)
    prune_rules = dict(desired.settings.prune if prune is None else prune)
    wanted = list(targets)
    draft = _Draft(cosmetic=CosmeticTally() if cosmetics else None, targets=wanted)
    kind_names = sorted({r.kind for r in desired.resources} | set(live.objects),
                        key=lambda n: (order.get(n, len(order)), n))
    by_kind: dict[str, list[DesiredResource]] = {}
    for resource in desired.resources:
        by_kind.setdefault(resource.kind, []).append(resource)
    for name in kind_names:
        _plan_kind(kinds.get(name), by_kind.get(name, []), live.of_kind(name), live.directory,
                   prune_rules, draft)

    if wanted:
        _check_targets_match(wanted, draft.addresses)
    keep = (lambda kind, key, parent: _targeted(kind, key, parent, kinds.get(kind).child_of,
                                                wanted)) if wanted else None
    changes = [c for c in draft.changes if keep is None or keep(c.kind, c.key, c.parent_key)]
    changes.sort(key=lambda c: (order.get(c.kind, len(order)), c.key,
                                _ACTION_ORDER[c.action], c.live_id or ""))
    notes = [n for n in draft.notes if keep is None or keep(n.kind, n.key, None)]
    notes.sort(key=lambda n: (order.get(n.kind, len(order)), n.key, n.reason.value))
    counts, details = draft.cosmetic.finish() if draft.cosmetic else ({}, [])
    unchanged: dict[str, int] = {}
    for kind, key, parent in draft.unchanged:
        if keep is None or keep(kind, key, parent):
            unchanged[kind] = unchanged.get(kind, 0) + 1
    existing = {name: len(live.of_kind(name)) for name in live.objects}
    plan = Plan(
        organization=desired.settings.organization,
        changes=changes,
        notes=notes,
        unchanged=sum(unchanged.values()),
        unchanged_by_kind=dict(sorted(unchanged.items(), key=lambda kv: order.get(kv[0], 0))),
        cosmetic=counts,
        cosmetic_details=details,
        fingerprints=dict(sorted(draft.fingerprints.items())),
        manifest_path=desired.settings.root or None,
        kinds_read=sorted(live.objects),
    )
    plan.safety = (threshold_findings(changes, existing, desired.settings)
                   + gate_findings(changes, kinds))
    return plan


def refuse_two_models(desired: DesiredState, kinds: KindCatalog) -> None:
    """One rule declared through a legacy kind and the kind that replaces it (same name)
    would be two live alerts firing twice: refused, each with its file:line."""
    named: dict[tuple[str, str], DesiredResource] = {}
    for resource in desired.resources:
        name = getattr(resource.entry, "name", None)
        if isinstance(name, str):
            named.setdefault((resource.kind, name), resource)
    problems = []
    for (kind_name, name), resource in named.items():
        for newer in kinds.get(kind_name).replaced_by:
            twin = named.get((newer, name))
            if twin is None:
                continue
            where = f" ({twin.span})" if twin.span else ""
            problems.append(Diagnostic(
                "two-alerting-models", f"{kind_name} {name!r} is also declared as {newer} "
                f"{name!r}{where}: one rule must not be managed through both models",
                span=resource.span, hint="finish `dexter migrate alerts` and remove the "
                "legacy entry"))
    if problems:
        raise ValidationError(problems)


def _plan_kind(kind: KindContract, wanted: list[DesiredResource],
               objects: list[LiveObject], directory: Directory,
               prune_rules: Mapping[str, Any], draft: _Draft) -> None:
    groups: dict[str, list[LiveObject]] = {}
    for obj in objects:
        groups.setdefault(obj.key, []).append(obj)
    canon: dict[int, dict[str, Any] | None] = {}
    for key, group in groups.items():
        hashes = []
        for obj in group:
            canon[id(obj)] = canonical_live(kind, obj, directory)
            hashes.append(fingerprint(obj, canon[id(obj)]))
        draft.fingerprints[f"{kind.name}/{key}"] = combine(hashes)
        draft.addresses.add((kind.name, key))

    declared: set[str] = set()
    for resource in wanted:
        declared.add(resource.key)
        draft.addresses.add((kind.name, resource.key))
        group = groups.get(resource.key, [])
        if len(group) > 1:
            continue  # ambiguous: noted below, never touched
        if not group:
            payload, after = _desired_forms(kind, resource, directory)
            draft.changes.append(ResourceChange(
                action=Action.CREATE, kind=kind.name, key=resource.key, after=after,
                span=resource.span, parent_key=resource.parent_key,
                project=_project_of(kind, resource),
                payload=payload if payload is not None
                else kind.build_payload(resource.entry, directory=directory),
            ))
            continue
        _compare(kind, resource, group[0], canon[id(group[0])], directory, draft)

    for key, group in groups.items():
        if len(group) > 1:
            draft.notes.append(PlanNote(
                reason=NoteReason.AMBIGUOUS, kind=kind.name, key=key,
                live_ids=tuple(sorted(o.id for o in group)), project=group[0].project))
        elif key not in declared:
            obj = group[0]
            if _prunes(kind, obj, prune_rules, directory):
                draft.changes.append(ResourceChange(
                    action=Action.DELETE, kind=kind.name, key=key,
                    before=canon[id(obj)] if canon[id(obj)] is not None else obj.data,
                    live_id=obj.id, project=obj.project, live=obj.data))
            else:
                draft.notes.append(PlanNote(reason=NoteReason.UNMANAGED, kind=kind.name,
                                            key=key, live_ids=(obj.id,), project=obj.project))


def _desired_forms(kind: KindContract, resource: DesiredResource, directory: Directory
                   ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(request body or None, canonical form) of a declared entry.

    For kinds whose canonical form derives from the request body
    (`canonical_reuses_payload`), the body is built once and reused for cosmetic counting
    and the write instead of being built again for each (None: build it when needed).
    """
    if kind.canonical_reuses_payload:
        payload = kind.build_payload(resource.entry, directory=directory)
        return payload, kind.canonical_from_payload(resource.entry, payload,
                                                    directory=directory)
    return None, kind.canonical(resource.entry, directory=directory)


def _compare(kind: KindContract, resource: DesiredResource, obj: LiveObject,
             live_canon: dict[str, Any] | None, directory: Directory, draft: _Draft) -> None:
    if live_canon is None:
        raise DexterError(
            f"{kind.name}/{resource.key}: the live object (id {obj.id}) has a form dexter "
            "cannot read, so it cannot be compared safely", code="unreadable-live")
    payload, after = _desired_forms(kind, resource, directory)
    for name in kind.live_optional_fields:
        if live_canon.get(name) is None and name in after:
            # Sentry omits this field from list responses: compare it only when read
            after = {k: v for k, v in after.items() if k != name}
    before = restrict(live_canon, after)
    if before == after:
        draft.unchanged.append((kind.name, resource.key, resource.parent_key))
        if draft.cosmetic is not None and (not draft.targets or _targeted(
                kind.name, resource.key, resource.parent_key, kind.child_of, draft.targets)):
            _tally(kind, resource, obj, payload, directory, draft.cosmetic)
        return
    diff = tuple(FieldChange(c.path, c.before, c.after, span=resource.span_for(c.path))
                 for c in diff_fields(before, after))
    if not kind.updatable:
        draft.notes.append(PlanNote(reason=NoteReason.IMMUTABLE, kind=kind.name,
                                    key=resource.key, live_ids=(obj.id,), project=obj.project))
        return
    draft.changes.append(ResourceChange(
        action=Action.UPDATE, kind=kind.name, key=resource.key, before=before, after=after,
        diff=diff, live_id=obj.id, project=obj.project, span=resource.span,
        payload=payload if payload is not None
        else kind.build_payload(resource.entry, directory=directory), live=obj.data,
        parent_key=resource.parent_key,
    ))


def _tally(kind: KindContract, resource: DesiredResource, obj: LiveObject,
           payload: dict[str, Any] | None, directory: Directory, tally: CosmeticTally) -> None:
    sent: Any = payload
    if sent is None:
        try:
            sent = kind.build_payload(resource.entry, directory=directory)
        except Exception:  # noqa: BLE001 - counting only explains; the plan stays correct
            return
    if not isinstance(sent, dict):
        return
    tally_object(f"{kind.name}/{resource.key}", sent, obj.data, tally)


def _project_of(kind: KindContract, resource: DesiredResource) -> str | None:
    if kind.scope != "project":
        return None
    projects = [r.name for r in kind.references(resource.entry) if r.kind == "project"]
    return projects[0] if projects else None


def _prunes(kind: KindContract, obj: LiveObject, rules: Mapping[str, Any],
            directory: Directory) -> bool:
    """Whether `prune:` lets this live, undeclared object be deleted."""
    if not kind.prunable:
        return False
    rule = rules.get(kind.name, rules.get(kind.section, False))
    if rule is True:
        return True
    if not rule:
        return False
    allowed = {str(p) for p in rule}
    if obj.project is not None:
        return obj.project in allowed
    # organization-level objects: pruned only when every project they cover is listed
    projects = obj.data.get("projects") or []
    slugs = [p if str(p) in allowed else directory.project_slug(p) for p in projects]
    return bool(slugs) and all(s in allowed for s in slugs)


def _targeted(kind: str, key: str, parent: str | None, child_of: str | None,
              targets: list[Target]) -> bool:
    """Whether a target names this object, or (for a child kind) its parent."""
    for t_kind, t_key in targets:
        if kind == t_kind and (t_key is None or key == t_key):
            return True
        if t_key is not None and child_of == t_kind and (
                parent == t_key or key.startswith(t_key + "/")):
            return True
    return False


def _check_targets_match(targets: list[Target], addresses: set[tuple[str, str]]) -> None:
    for t_kind, t_key in targets:
        if t_key is None or (t_kind, t_key) in addresses:
            continue
        keys = [key for kind, key in addresses if kind == t_kind]
        hint = did_you_mean(t_key, keys)
        raise DexterError(
            f"--target {t_kind}/{t_key} matches no declared or live object"
            + (f"; {hint}" if hint else ""), code="unknown-target")
