"""Comparing two releases: is the candidate a regression of the base? (pure; no I/O)

    verdict = compare(base_numbers, candidate_numbers)          # ReleaseComparison
    verdict.regression, verdict.verdict, verdict.reasons        # True, "regression", [...]

The numbers come from Sentry's events endpoints (`sentry/release_numbers.py` reads them);
`dexter releases compare` and the watch daemon's `release.regression` event both call this.

- error rate = error events / all events (errors + transactions) of the release;
- new issues = issues with error events in the candidate and none in the base;
  resolved issues = issues with events in the base and none in the candidate;
- a regression needs both: the candidate's error rate at least `max_rate_ratio` times the
  base's, and a two-proportion z-score of at least `min_z` (so that a handful of events
  never decides); a release with fewer than `min_events` events gets no verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReleaseNumbers:
    """What Sentry says about one release over the compared period."""

    version: str
    events: int
    """All events: errors and transactions."""
    errors: int
    issues: dict[str, int] = field(default_factory=dict)
    """Issue (short id) -> error events of the release in it."""

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.events if self.events else None


@dataclass(frozen=True)
class CompareSettings:
    max_rate_ratio: float = 1.5
    """The candidate's error rate over the base's from which it is a regression."""
    min_z: float = 3.0
    """Two-proportion z-score the difference must reach (about 99.9% one-sided)."""
    min_events: int = 100
    """Fewer events than this in either release: no verdict."""


@dataclass(frozen=True)
class ReleaseComparison:
    base: ReleaseNumbers
    candidate: ReleaseNumbers
    verdict: str
    """"regression", "ok" or "insufficient-data"."""
    rate_ratio: float | None
    z_score: float | None
    new_issues: list[str]
    resolved_issues: list[str]
    reasons: list[str]
    settings: CompareSettings

    @property
    def regression(self) -> bool:
        return self.verdict == "regression"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (`dexter releases compare --format json`, watch event data)."""

        def side(n: ReleaseNumbers) -> dict[str, Any]:
            return {"version": n.version, "events": n.events, "errors": n.errors,
                    "error_rate": n.error_rate, "issues": len(n.issues)}

        return {"base": side(self.base), "candidate": side(self.candidate),
                "verdict": self.verdict, "regression": self.regression,
                "rate_ratio": _finite(self.rate_ratio), "z_score": _finite(self.z_score),
                "new_issues": self.new_issues, "resolved_issues": self.resolved_issues,
                "reasons": self.reasons,
                "thresholds": {"max_rate_ratio": self.settings.max_rate_ratio,
                               "min_z": self.settings.min_z,
                               "min_events": self.settings.min_events}}


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def z_score(errors_a: int, events_a: int, errors_b: int, events_b: int) -> float:
    """Two-proportion z-test statistic of rate b over rate a (pooled variance)."""
    pooled = (errors_a + errors_b) / (events_a + events_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / events_a + 1 / events_b))
    difference = errors_b / events_b - errors_a / events_a
    if spread == 0:
        return 0.0 if difference == 0 else math.copysign(math.inf, difference)
    return difference / spread


def _percent(n: ReleaseNumbers) -> str:
    rate = n.error_rate
    shown = "n/a" if rate is None else f"{rate * 100:.2f}%"
    return f"{shown} ({n.errors}/{n.events})"


def compare(base: ReleaseNumbers, candidate: ReleaseNumbers,
            settings: CompareSettings | None = None) -> ReleaseComparison:
    """The verdict on `candidate` against `base`, with the numbers behind it."""
    settings = settings or CompareSettings()
    new = sorted(set(candidate.issues) - set(base.issues))
    resolved = sorted(set(base.issues) - set(candidate.issues))
    reasons = [(f"error rate {base.version}: {_percent(base)}; "
               f"{candidate.version}: {_percent(candidate)}")]
    if min(base.events, candidate.events) < settings.min_events:
        reasons.append(f"fewer than {settings.min_events} events in a release: no verdict")
        return ReleaseComparison(base, candidate, "insufficient-data", None, None, new,
                                 resolved, reasons, settings)
    rate_a, rate_b = base.errors / base.events, candidate.errors / candidate.events
    ratio = rate_b / rate_a if rate_a else (math.inf if rate_b else 1.0)
    z = z_score(base.errors, base.events, candidate.errors, candidate.events)
    regression = ratio >= settings.max_rate_ratio and z >= settings.min_z
    reasons.append(f"ratio x{ratio:.2f} (regression from x{settings.max_rate_ratio:g}), "
                   f"z-score {z:.1f} (significant from {settings.min_z:g})")
    if new:
        reasons.append(f"{len(new)} new issue{'s' if len(new) != 1 else ''} in "
                       f"{candidate.version}")
    return ReleaseComparison(base, candidate, "regression" if regression else "ok", ratio, z,
                             new, resolved, reasons, settings)
