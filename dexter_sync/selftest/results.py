"""What one check found: pass, fail or skip, with the request and the difference."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["pass", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "skip")


@dataclass(frozen=True)
class CheckResult:
    name: str
    """`create`, `read-list`, `pagination-link`, ... (unique together with `kind`)."""
    kind: str | None
    """The resource kind the check is about; None for cross-cutting checks."""
    status: Status
    detail: str
    """For a failure: the request sent and the difference found; for a skip: why."""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "status": self.status,
                "detail": self.detail}


class CheckFailed(Exception):
    """Raised inside a check: the check fails with this message (request + difference)."""


class CheckSkipped(Exception):
    """Raised inside a check: the check is skipped for this reason."""


def summarize(results: list[CheckResult]) -> dict[str, int]:
    counts = Counter(r.status for r in results)
    return {**{status: counts.get(status, 0) for status in STATUSES}, "total": len(results)}
