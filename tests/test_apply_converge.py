"""Convergence after a concurrent run, deterministically (the race itself is
test_apply_concurrent.py): a twin created before this run's create is kept and this run's
object removed; a twin created after it is left to its own run, and this run keeps its own.
Both report the concurrent run and exit 3. Real emulator, real facade."""

from __future__ import annotations

import asyncio
from typing import Any

from dexter_sync.apply.executor import execute_plan
from dexter_sync.cli.plan import load_desired, plan_live
from dexter_sync.core.requests import ApiRequest
from dexter_sync.sentry.connect import open_facade
from tests.test_apply_support import FAST, list_all, plan_and_apply, write_manifests

QUERIES = "organizations/acme/discover/saved/"


def queries(emu) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for query in list_all(emu, QUERIES):
        found.setdefault(query["name"], []).append(int(query["id"]))
    return {name: sorted(ids) for name, ids in found.items()}


def test_a_twin_made_first_is_kept_and_this_runs_object_removed(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=3)

    def other_run_first(plan) -> None:  # the concurrent run created them a moment earlier
        client = emu.client()
        for change in plan.changes:
            assert client.post(QUERIES, json=change.payload).status_code == 201

    plan, report = asyncio.run(plan_and_apply(emu, manifests, between=other_run_first))
    assert len(plan.changes) == 3
    assert report.exit_code == 3
    assert len(report.concurrent) == 3
    assert all("a concurrent run created it too" in note and "removed this run's id" in note
               for note in report.concurrent)
    live = queries(emu)
    assert sorted(live) == ["q-0000", "q-0001", "q-0002"]
    assert all(len(ids) == 1 for ids in live.values())
    kept = {o.change.key: int(o.live_id) for o in report.outcomes}
    assert kept == {name: ids[0] for name, ids in live.items()}  # the other run's (lower) ids


class TwinAfterEachCreate:
    """The real facade, plus a concurrent run that POSTs the same object right after ours."""

    def __init__(self, facade: Any) -> None:
        self._facade = facade

    def __getattr__(self, name: str) -> Any:
        return getattr(self._facade, name)

    async def send(self, request: ApiRequest) -> Any:
        response = await self._facade.send(request)
        if request.method == "POST" and request.path == QUERIES:
            await self._facade.send(request)
        return response


def test_a_twin_made_after_this_runs_create_is_left_to_its_run(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=2)

    async def scenario():
        desired = load_desired(str(manifests), emu.organization)
        async with open_facade(sentry_url=emu.url, organization=emu.organization,
                               desired=desired, settings=FAST,
                               notify=lambda _: None) as facade:
            plan = await plan_live(facade, desired)
            return await execute_plan(plan, TwinAfterEachCreate(facade))

    report = asyncio.run(scenario())
    assert report.exit_code == 3
    assert len(report.concurrent) == 2
    assert all("kept this run's id" in note for note in report.concurrent)
    live = queries(emu)
    # this run kept its own (the lowest); removing the twin is the other run's job
    assert {o.change.key: int(o.live_id) for o in report.outcomes} == {
        name: ids[0] for name, ids in live.items()}
    assert all(len(ids) == 2 for ids in live.values())


def test_an_ordinary_apply_sees_no_concurrent_run(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=2, metric=2, issue=2)
    _, report = asyncio.run(plan_and_apply(emu, manifests))
    assert report.exit_code == 0 and report.concurrent == []
