"""Apply under injected faults: 5xx, dropped connections and lost responses never leave a
duplicate, and two runs converge. Counts come from the emulator's API, not dexter's report."""

from __future__ import annotations

import asyncio

import pytest

from dexter_sync.apply.report import Status
from tests.test_apply_support import (
    apply_sync,
    duplicates,
    list_all,
    live_names,
    plan_only,
    write_manifests,
)


def test_500_changes_under_faults_converge_in_two_runs_without_duplicates(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=250, metric=150, issue=100)
    emu.set_faults(error_rate=0.2, drop_rate=0.05, lost_response_rate=0.05, seed=7)
    _, first = apply_sync(emu, manifests)
    assert len(first.outcomes) == 500
    assert any("adopted" in (o.detail or "") for o in first.outcomes), \
        "lost responses should have been adopted by natural key"
    _, second = apply_sync(emu, manifests)
    emu.clear_faults()

    names = live_names(emu)
    assert duplicates(names) == {}
    expected = {f"q-{i:04d}" for i in range(250)} | {f"m-{i:04d}" for i in range(150)} \
        | {f"i-{i:04d}" for i in range(100)}
    assert set(names) == expected
    assert not asyncio.run(plan_only(emu, manifests)).has_changes
    # the second run only had what the first could not finish
    assert len(second.outcomes) <= len(first.outcomes) - len(first.of_status(Status.APPLIED))


def _posts(emu) -> int:
    routes = emu.counters()["routes"]
    return sum(sum(s.values()) for r, s in routes.items() if r.startswith("POST "))


@pytest.mark.parametrize("mode", ["502", "drop"])
def test_every_lost_response_is_adopted_after_one_post_each(emu, tmp_path, mode):
    manifests = write_manifests(tmp_path / "m", queries=3, metric=2, issue=2)
    emu.set_faults(lost_response_rate=1.0, lost_response_mode=mode, seed=1)
    emu.reset_counters()
    _, report = apply_sync(emu, manifests)
    emu.clear_faults()
    assert [o.status for o in report.outcomes] == [Status.APPLIED] * 7
    assert all(o.detail and o.detail.startswith("adopted") for o in report.outcomes)
    assert _posts(emu) == 7  # one POST per create: never a blind second one
    names = live_names(emu)
    assert duplicates(names) == {} and len(names) == 7
    org = emu.organization
    live_ids = {str(x["id"]) for path in (f"organizations/{org}/discover/saved/",
                                          f"organizations/{org}/alert-rules/",
                                          f"projects/{org}/backend/rules/",
                                          f"projects/{org}/frontend/rules/")
                for x in list_all(emu, path)}
    assert {o.live_id for o in report.outcomes} == live_ids
    assert not asyncio.run(plan_only(emu, manifests)).has_changes

