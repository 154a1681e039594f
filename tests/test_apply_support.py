"""Helpers shared by the apply tests (manifests on disk, counting objects in the emulator
through its API, running plan/apply in-process); plus a check of the helpers themselves."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dexter_sync.apply.executor import execute_plan
from dexter_sync.apply.report import ApplyReport
from dexter_sync.cli.plan import load_desired, plan_live
from dexter_sync.core.changes import Plan
from dexter_sync.emulator.testing import EmulatorHandle, running_emulator
from dexter_sync.sentry.connect import open_facade
from dexter_sync.sentry.gateway import GatewaySettings
from dexter_sync.sentry.retrying import RetryPolicy

PROJECTS = ["backend", "frontend"]
TEAMS = ["backend", "frontend"]

# Fast gateway for tests: short backoffs, a breaker that cools down quickly.
FAST = GatewaySettings(concurrency=16, retry=RetryPolicy(attempts=8, initial=0.02, maximum=0.2,
                                                         jitter=0.02),
                       breaker_threshold=10, breaker_cooldown=1.0)


def write_manifests(root: Path, *, queries: int = 0, metric: int = 0, issue: int = 0,
                    organization: str = "acme", extra: str = "") -> Path:
    """A manifest directory with `queries` Discover queries, `metric` metric alerts and
    `issue` issue alerts (all distinct, so Sentry's duplicate check never trips)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text(
        f"version: 1\norganization: {organization}\ninclude: ['*.yaml']\n"
        "safety: {max_delete_percent: 100, max_update_percent: 100}\n")
    lines: list[str] = []
    if queries:
        lines.append("discover_queries:")
        for i in range(queries):
            lines += [f"  - name: q-{i:04d}", "    projects: [backend]",
                      "    fields: [title, count()]", f"    query: 'event.type:error n:{i}'",
                      "    range: 24h"]
    if metric:
        lines.append("metric_alerts:")
        for i in range(metric):
            project = PROJECTS[i % len(PROJECTS)]
            lines += [f"  - name: m-{i:04d}", f"    project: {project}",
                      "    aggregate: count()", "    dataset: events", "    time_window: 5m",
                      "    triggers:", "      critical:", f"        threshold: {100 + i}",
                      "        actions:", f"          - email: {{team: {project}}}"]
    if issue:
        lines.append("issue_alerts:")
        for i in range(issue):
            project = PROJECTS[i % len(PROJECTS)]
            lines += [f"  - name: i-{i:04d}", f"    project: {project}",
                      "    action_match: any", "    conditions:",
                      f"      - event_frequency: {{value: {1000 + i}, interval: 1h}}",
                      "    actions:", f"      - email: {{team: {project}}}"]
    (root / "resources.yaml").write_text("\n".join(lines) + "\n" + extra)
    return root


def list_all(emu: Any, path: str) -> list[dict[str, Any]]:
    """Every item of a list endpoint, following Sentry's `Link` cursors (the emulator's API)."""
    client = emu.client()
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"per_page": 100}
    for _ in range(1000):
        response = client.get(path, params=params)
        response.raise_for_status()
        items += response.json()
        match = re.search(r'rel="next"; results="true"; cursor="([^"]+)"',
                          response.headers.get("link", ""))
        if not match:
            return items
        params = {"per_page": 100, "cursor": match.group(1)}
    raise AssertionError(f"{path}: too many pages")


def live_names(emu: Any) -> Counter[str]:
    """Every managed object's name as the emulator holds it, counted (duplicates show > 1)."""
    org = emu.organization
    names: Counter[str] = Counter()
    names.update(q["name"] for q in list_all(emu, f"organizations/{org}/discover/saved/"))
    names.update(r["name"] for r in list_all(emu, f"organizations/{org}/alert-rules/"))
    for project in PROJECTS:
        names.update(r["name"] for r in list_all(emu, f"projects/{org}/{project}/rules/"))
    return names


def duplicates(names: Counter[str]) -> dict[str, int]:
    return {name: n for name, n in names.items() if n > 1}


def prepare(emu: Any) -> None:
    emu.ensure_names(projects=PROJECTS, teams=TEAMS, environments=["production"])


@contextmanager
def prepared_emulator(monkeypatch: pytest.MonkeyPatch | None = None
                      ) -> Iterator[EmulatorHandle]:
    """A fresh emulator on loopback with PROJECTS, TEAMS and "production"; with
    `monkeypatch`, in-process commands get its token and no SENTRY_URL from the environment."""
    with running_emulator(projects=PROJECTS) as handle:
        if monkeypatch is not None:
            monkeypatch.setenv("SENTRY_AUTH_TOKEN", handle.token)
            monkeypatch.delenv("SENTRY_URL", raising=False)
        prepare(handle)
        yield handle


async def plan_and_apply(emu: Any, manifests: Path, *, settings: GatewaySettings = FAST,
                         concurrency: int = 16, between: Callable[[Plan], Any] | None = None,
                         **execute: Any) -> tuple[Plan, ApplyReport]:
    """Plan `manifests` against the emulator, run `between(plan)` (a change in Sentry
    meanwhile) if given, then execute the plan in the same session."""
    desired = load_desired(str(manifests), emu.organization)
    async with open_facade(sentry_url=emu.url, organization=emu.organization, desired=desired,
                           settings=settings, notify=lambda _: None) as facade:
        plan = await plan_live(facade, desired)
        if between is not None:
            between(plan)
        report = await execute_plan(plan, facade, concurrency=concurrency, **execute)
    return plan, report


async def plan_only(emu: Any, manifests: Path) -> Plan:
    desired = load_desired(str(manifests), emu.organization)
    async with open_facade(sentry_url=emu.url, organization=emu.organization, desired=desired,
                           settings=FAST, notify=lambda _: None) as facade:
        return await plan_live(facade, desired)


def apply_sync(emu: Any, manifests: Path, **kwargs: Any) -> tuple[Plan, ApplyReport]:
    return asyncio.run(plan_and_apply(emu, manifests, **kwargs))


def test_list_all_follows_cursors_and_counts_duplicates():
    with prepared_emulator() as emu:
        client = emu.client()
        for i in range(150):
            body = {"name": f"dup-{i % 140}", "projects": [], "version": 2, "fields": ["title"]}
            assert client.post(f"organizations/{emu.organization}/discover/saved/",
                               json=body).status_code == 201
        names = live_names(emu)
    assert sum(names.values()) == 150
    assert duplicates(names) == {f"dup-{i}": 2 for i in range(10)}
