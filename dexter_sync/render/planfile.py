"""Saved plans (`dexter plan --out plan.json`): apply exactly what was reviewed.

The file is the stable JSON plus what apply needs (payloads, live ids, spans, raw live
objects, fingerprints of every live object read, the manifest path) and a checksum over
all of it (octoDNS's habit). `read_plan` refuses a corrupt file (`corrupt-plan`), another
format version (`plan-version`) or another organization (`plan-organization`);
`stale_objects` names what changed live since the plan was made (terraform's "Saved plan
is stale").
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..core.changes import (
    Action,
    FieldChange,
    NoteReason,
    Plan,
    PlanNote,
    ResourceChange,
    SafetyFinding,
)
from ..core.contract import KindCatalog
from ..core.diagnostics import DexterError
from ..core.fingerprints import fingerprints_of
from ..core.sources import SourceSpan
from ..core.state import LiveState
from .jsonplan import FORMAT_VERSION, plan_document
from .view import build_view


def _checksum(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _span(span: SourceSpan | None) -> dict[str, Any] | None:
    return None if span is None else {"file": span.file, "line": span.line, "column": span.column}


def saved_document(plan: Plan) -> dict[str, Any]:
    """The saved-plan object: the stable JSON plus apply's needs, with its checksum."""
    document = plan_document(build_view(plan))
    active = [c for c in plan.changes if c.action is not Action.NOOP]
    for shown, change in zip(document["changes"], active, strict=True):
        shown.update({
            "live_id": change.live_id,
            "payload": change.payload,
            "live": change.live,
            "span": _span(change.span),
            "parent_key": change.parent_key,
            "diff_paths": [list(d.path) for d in change.diff],
            "diff_spans": [_span(d.span) for d in change.diff],
        })
    document.update({
        "fingerprints": dict(sorted(plan.fingerprints.items())),
        "manifest_path": plan.manifest_path,
        "kinds_read": list(plan.kinds_read),
        "projects_read": list(plan.projects_read),
        "cosmetic_details": list(plan.cosmetic_details),
        "unchanged_by_kind": dict(plan.unchanged_by_kind),
    })
    document["checksum"] = _checksum(document)
    return document


def write_plan(plan: Plan, path: str | os.PathLike[str]) -> None:
    """Write a saved plan atomically (a temporary file renamed over the target)."""
    text = json.dumps(saved_document(plan), indent=2, ensure_ascii=False, default=str) + "\n"
    write_text_atomic(Path(path), text)


def write_text_atomic(target: Path, text: str) -> None:
    """A temporary file renamed over `target`: readers see the old or the new text."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _corrupt(path: Path, why: str) -> DexterError:
    return DexterError(f"{path}: not a usable saved plan: {why}", code="corrupt-plan")


def read_plan(path: str | os.PathLike[str], *, organization: str | None = None) -> Plan:
    """Load a saved plan, refusing corrupt files, other versions and other organizations."""
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise DexterError(f"{source}: cannot read the saved plan: {error.strerror}",
                          code="corrupt-plan") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _corrupt(source, f"invalid JSON ({error})") from None
    if not isinstance(document, dict):
        raise _corrupt(source, "the file does not hold a JSON object")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise DexterError(
            f"{source}: saved plan has format_version {version!r}; this dexter reads "
            f"format_version {FORMAT_VERSION}. Make the plan again with this version.",
            code="plan-version")
    if document.get("checksum") != _checksum(document):
        raise _corrupt(source, "its checksum does not match (the file was edited or truncated)")
    if organization is not None and document.get("organization") != organization:
        raise DexterError(
            f"{source}: saved plan is for organization {document.get('organization')!r}, "
            f"not {organization!r}", code="plan-organization")
    try:
        return _plan_from(document)
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupt(source, f"missing or malformed field ({error})") from None


def _span_from(data: dict[str, Any] | None) -> SourceSpan | None:
    return None if not data else SourceSpan(data["file"], int(data["line"]), int(data["column"]))


def _change_from(data: dict[str, Any]) -> ResourceChange:
    paths = data.get("diff_paths") or [[d["path"]] for d in data["diff"]]
    spans = data.get("diff_spans") or [None] * len(paths)
    diff = tuple(FieldChange(tuple(p), d["before"], d["after"], span=_span_from(s))
                 for d, p, s in zip(data["diff"], paths, spans, strict=True))
    return ResourceChange(
        action=Action(data["action"]), kind=data["kind"], key=data["key"],
        before=data["before"], after=data["after"], diff=diff, live_id=data.get("live_id"),
        project=data.get("project"), span=_span_from(data.get("span")),
        payload=data.get("payload"), live=data.get("live"), parent_key=data.get("parent_key"),
    )


def _plan_from(document: dict[str, Any]) -> Plan:
    return Plan(
        organization=str(document["organization"]),
        changes=[_change_from(c) for c in document["changes"]],
        notes=[PlanNote(NoteReason(n["reason"]), n["kind"], n["key"], tuple(n["live_ids"]),
                        n.get("project")) for n in document.get("notes", [])],
        unchanged=int(document["summary"]["unchanged"]),
        unchanged_by_kind=dict(document.get("unchanged_by_kind", {})),
        safety=[SafetyFinding(f["code"], f["kind"], f["message"], f.get("key"))
                for f in document.get("safety", [])],
        cosmetic=dict(document.get("cosmetic", {})),
        cosmetic_details=list(document.get("cosmetic_details", [])),
        fingerprints=dict(document["fingerprints"]),
        manifest_path=document.get("manifest_path"),
        kinds_read=list(document.get("kinds_read", [])),
        projects_read=list(document.get("projects_read", [])),
    )


def stale_objects(plan: Plan, live: LiveState, kinds: KindCatalog) -> list[str]:
    """What changed live since the plan: `kind/key: changed|deleted|created since the plan`.

    Empty when the plan is still current. Every object the plan read is compared by its
    fingerprint, and every object the plan would create must still be absent.
    """
    fresh = fingerprints_of(live, kinds)
    stale: list[str] = []
    for address, print_ in plan.fingerprints.items():
        now = fresh.get(address)
        if now is None:
            stale.append(f"{address}: deleted since the plan")
        elif now != print_:
            stale.append(f"{address}: changed since the plan")
    for change in plan.changes:
        if change.action is Action.CREATE and change.address in fresh \
                and change.address not in plan.fingerprints:
            stale.append(f"{change.address}: created since the plan")
    return sorted(stale)
