"""Release health for the status page: per project, its latest release against the one
before, with the same comparison `dexter releases compare` makes.

    health = ReleaseHealth(gateway, "acme", ttl=60)
    rows = await health.read()      # [ProjectHealth(project="backend", releases=[...])]

Read on demand (a page view), at most once per `ttl` seconds: the watch loop pays nothing
for it, and a page refreshed every second costs Sentry one read a minute.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ..core.release_compare import ReleaseComparison, ReleaseNumbers, compare
from ..sentry.feeds import recent_releases
from ..sentry.gateway import Gateway
from ..sentry.release_numbers import DEFAULT_PERIOD, read_release_numbers

MAX_PROJECTS = 20
"""Projects shown (those with the most recent releases first): a bounded page and read."""


@dataclass(frozen=True)
class ReleaseRow:
    version: str
    events: int
    errors: int
    error_rate: float | None
    regression: bool = False
    verdict: str | None = None
    """For the latest release of a project that has a previous one: the comparison's verdict."""
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectHealth:
    project: str
    releases: list[ReleaseRow] = field(default_factory=list)
    """Newest first."""


def latest_per_project(releases: list[dict[str, Any]], keep: int = 2) -> dict[str, list[str]]:
    """Project slug -> its newest `keep` versions (newest first), projects by recency."""
    ordered = sorted(releases, key=lambda r: str(r.get("dateCreated") or ""), reverse=True)
    found: dict[str, list[str]] = {}
    for release in ordered:
        version = release.get("version")
        if not isinstance(version, str):
            continue
        for project in release.get("projects") or []:
            slug = project.get("slug") if isinstance(project, dict) else None
            if isinstance(slug, str) and len(found.setdefault(slug, [])) < keep:
                found[slug].append(version)
    return dict(list(found.items())[:MAX_PROJECTS])


def _row(numbers: ReleaseNumbers, verdict: ReleaseComparison | None = None) -> ReleaseRow:
    return ReleaseRow(version=numbers.version, events=numbers.events, errors=numbers.errors,
                      error_rate=numbers.error_rate,
                      regression=bool(verdict and verdict.regression),
                      verdict=verdict.verdict if verdict else None,
                      reasons=tuple(verdict.reasons) if verdict else ())


class ReleaseHealth:
    def __init__(self, gateway: Gateway, organization: str, *, ttl: float = 60.0,
                 period: str = DEFAULT_PERIOD) -> None:
        self.gateway = gateway
        self.organization = organization
        self.ttl = ttl
        self.period = period
        self._cached: tuple[float, list[ProjectHealth]] | None = None
        self._lock = asyncio.Lock()

    async def read(self) -> list[ProjectHealth]:
        async with self._lock:  # two page views at once share one read
            if self._cached and time.monotonic() - self._cached[0] < self.ttl:
                return self._cached[1]
            rows = await self._read()
            self._cached = (time.monotonic(), rows)
            return rows

    async def _read(self) -> list[ProjectHealth]:
        chosen = latest_per_project(await recent_releases(self.gateway, self.organization))
        return list(await asyncio.gather(*(self._project(slug, versions)
                                           for slug, versions in chosen.items())))

    async def _project(self, project: str, versions: list[str]) -> ProjectHealth:
        numbers = await asyncio.gather(*(
            read_release_numbers(self.gateway, self.organization, version, project=project,
                                 period=self.period) for version in versions))
        if len(numbers) < 2:
            return ProjectHealth(project, [_row(n) for n in numbers])
        latest, previous = numbers[0], numbers[1]
        return ProjectHealth(project, [_row(latest, compare(previous, latest)), _row(previous)])
