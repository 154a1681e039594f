"""ApplyReport: what happened to every change, rendered as text or JSON, and the exit code.

Exit codes (DESIGN.md, Stable interfaces): 0 when every change was applied, 3 when some
failed or were not attempted, or when another apply ran at the same time. Errors before any write (exit 1) never reach a report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..core.changes import ResourceChange
from ..core.escaping import printable

REPORT_FORMAT_VERSION = 1
TEXT_LIST_LIMIT = 100
"""Text reports list at most this many changes per section (JSON lists every one)."""


class Status(str, Enum):
    APPLIED = "applied"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"

    def __str__(self) -> str:
        return self.value


@dataclass
class ChangeOutcome:
    change: ResourceChange
    status: Status
    detail: str | None = None
    """Sentry's error text for a failure; a note for an applied change (e.g. "adopted")."""
    live_id: str | None = None
    attempts: int = 0
    """Write requests sent for this change (POST/PUT/DELETE, not look-ups)."""

    @property
    def source(self) -> str | None:
        span = self.change.span
        return f"{span.file}:{span.line}" if span else None


@dataclass
class ApplyReport:
    organization: str
    outcomes: list[ChangeOutcome] = field(default_factory=list)
    stopped: str | None = None
    """Why the run stopped starting writes (circuit breaker open), None when it ran to the end."""
    seconds: float = 0.0
    concurrent: list[str] = field(default_factory=list)
    """One note per key another apply created at the same time (exit 3: runs overlapped)."""

    def of_status(self, status: Status) -> list[ChangeOutcome]:
        return [o for o in self.outcomes if o.status is status]

    @property
    def summary(self) -> dict[str, int]:
        return {str(s): len(self.of_status(s)) for s in Status}

    @property
    def exit_code(self) -> int:
        applied = all(o.status is Status.APPLIED for o in self.outcomes)
        return 0 if applied and not self.concurrent else 3


def _line(outcome: ChangeOutcome) -> str:
    change = outcome.change
    where = f"{outcome.source}: " if outcome.source else ""
    text = f"{where}{change.action} {change.address}"
    # names and Sentry's texts are shown escaped: a newline must not forge a report line
    return printable(f"{text}: {outcome.detail}" if outcome.detail else text)


def _section(title: str, outcomes: list[ChangeOutcome]) -> list[str]:
    if not outcomes:
        return []
    lines = [f"{title} ({len(outcomes)}):"]
    lines += [f"  {_line(o)}" for o in outcomes[:TEXT_LIST_LIMIT]]
    if len(outcomes) > TEXT_LIST_LIMIT:
        lines.append(f"  ... and {len(outcomes) - TEXT_LIST_LIMIT} more (--format json lists "
                     "every one)")
    return lines


def format_seconds(seconds: float) -> str:
    """`0.04s`, `2.3s`, `1m05s`: precise enough that a fast apply does not read `0.0s`."""
    if seconds < 1:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def render_text(report: ApplyReport) -> str:
    """Human report: failures first with file:line and Sentry's text, then what was not tried."""
    counts = report.summary
    lines = _section("Failed", report.of_status(Status.FAILED))
    lines += _section("Not attempted", report.of_status(Status.NOT_ATTEMPTED))
    if report.concurrent:
        lines.append(f"Concurrent run ({len(report.concurrent)}): another apply made the "
                     "same changes at the same time; converged on one object per key")
        lines += [f"  {printable(note)}" for note in report.concurrent[:TEXT_LIST_LIMIT]]
    if report.stopped:
        lines.append(f"Stopped: {report.stopped}")
    lines.append(
        f"Apply {'complete' if report.exit_code == 0 else 'incomplete'}: "
        f"{counts['applied']} applied, {counts['failed']} failed, "
        f"{counts['not_attempted']} not attempted ({format_seconds(report.seconds)})."
    )
    return "\n".join(lines)


def report_dict(report: ApplyReport) -> dict[str, Any]:
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "organization": report.organization,
        "summary": report.summary,
        "stopped": report.stopped,
        "concurrent": report.concurrent,
        "seconds": round(report.seconds, 3),
        "changes": [
            {
                "action": str(o.change.action),
                "kind": o.change.kind,
                "key": o.change.key,
                "status": str(o.status),
                "detail": o.detail,
                "live_id": o.live_id,
                "source": o.source,
                "attempts": o.attempts,
            }
            for o in report.outcomes
        ],
    }


def render_json(report: ApplyReport) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=False)
