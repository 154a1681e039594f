"""Safety is a property of the plan (octoDNS's TooMuchChange habit): thresholds and kind gates.

Each finding carries its numbers or its reason; apply refuses a plan with findings unless
`--force`. The gates themselves are kind hooks (`safety_findings`; alert kinds refuse alerts
that notify no one), so core names no kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .changes import Action, ResourceChange, SafetyFinding
from .contract import KindCatalog
from .state import ManifestSettings


def threshold_findings(changes: Iterable[ResourceChange], existing: dict[str, int],
                       settings: ManifestSettings) -> list[SafetyFinding]:
    """Per kind: updates or deletes over the allowed share of existing live objects."""
    updates: Counter[str] = Counter()
    deletes: Counter[str] = Counter()
    for change in changes:
        if change.action is Action.UPDATE:
            updates[change.kind] += 1
        elif change.action is Action.DELETE:
            deletes[change.kind] += 1
    findings: list[SafetyFinding] = []
    for kind in sorted(existing):
        total = existing[kind]
        if total < settings.min_existing or total == 0:
            continue
        for code, verb, count, limit in (
            ("too-many-updates", "updates", updates[kind], settings.max_update_percent),
            ("too-many-deletes", "deletes", deletes[kind], settings.max_delete_percent),
        ):
            share = 100.0 * count / total
            if share > limit:
                findings.append(SafetyFinding(
                    code=code, kind=kind,
                    message=(f"{kind}: too many {verb}, {share:.0f}% is over {limit:g}% "
                             f"({count}/{total}), --force required"),
                ))
    return findings


def gate_findings(changes: Iterable[ResourceChange], kinds: KindCatalog) -> list[SafetyFinding]:
    """Each change's kind gates (alerts that would notify no one, pager deletes, ...)."""
    findings: list[SafetyFinding] = []
    for change in changes:
        findings += kinds.get(change.kind).safety_findings(change)
    return findings


def gate_finding(code: str, change: ResourceChange, reason: str) -> SafetyFinding:
    """A gate's finding about one change, in the shared wording."""
    return SafetyFinding(code=code, kind=change.kind, key=change.key,
                         message=f"{change.address}: {reason}, --force required")
