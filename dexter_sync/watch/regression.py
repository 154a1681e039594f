"""`release.regression`: a new release whose error rate is clearly above the previous one's.

The verdict is `dexter releases compare`'s, from the same call (`compare_releases`, over the
same events-table reads and thresholds). A release that appears after the daemon started is
a candidate; its previous release is the next older one in Sentry's list that shares a
project with it. Each candidate is compared at most once per `check_every` seconds (four
events-table requests) for `watch_for` seconds after it appeared, and reported once, when
the verdict first says regression.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.release_compare import ReleaseComparison
from .events import WatchEvent

Compare = Callable[[str, str], Awaitable[ReleaseComparison]]
"""(base version, candidate version) -> the comparison."""

CHECK_EVERY = 300.0
WATCH_FOR = 24 * 3600.0
MAX_CANDIDATES = 50


@dataclass
class _Candidate:
    version: str
    base: str
    seen_at: float
    checked_at: float | None = None


@dataclass
class RegressionWatcher:
    organization: str
    compare: Compare
    check_every: float = CHECK_EVERY
    watch_for: float = WATCH_FOR
    clock: Callable[[], float] = time.monotonic
    primed: bool = False
    known: set[str] = field(default_factory=set)
    candidates: dict[str, _Candidate] = field(default_factory=dict)

    types = ("release.regression",)

    async def events(self, releases: list[dict[str, Any]]) -> list[WatchEvent]:
        """`releases` newest first, as the releases feed reads them."""
        versions = [str(r.get("version")) for r in releases]
        if not self.primed:
            self.known, self.primed = set(versions), True
            return []
        now = self.clock()
        for index, release in enumerate(releases):
            version = versions[index]
            if version in self.known:
                continue
            self.known.add(version)
            base = _previous(release, releases[index + 1:])
            if base is not None and len(self.candidates) < MAX_CANDIDATES:
                self.candidates[version] = _Candidate(version, base, now)
        if len(self.known) > 10 * MAX_CANDIDATES:  # bounded: only the listed window matters
            self.known = set(versions) | set(self.candidates)
        out: list[WatchEvent] = []
        for candidate in list(self.candidates.values()):
            if now - candidate.seen_at > self.watch_for:
                del self.candidates[candidate.version]
                continue
            if candidate.checked_at is not None and \
                    now - candidate.checked_at < self.check_every:
                continue
            candidate.checked_at = now
            comparison = await self.compare(candidate.base, candidate.version)
            if comparison.regression:
                del self.candidates[candidate.version]
                out.append(WatchEvent("release.regression", self.organization, "release",
                                      candidate.version,
                                      {**comparison.as_dict(), "previous": candidate.base}))
        return out


def _previous(release: dict[str, Any], older: list[dict[str, Any]]) -> str | None:
    """The newest older release sharing a project with `release`."""
    projects = {p.get("slug") for p in release.get("projects") or [] if isinstance(p, dict)}
    for other in older:
        theirs = {p.get("slug") for p in other.get("projects") or [] if isinstance(p, dict)}
        if projects & theirs:
            return str(other.get("version"))
    return None
