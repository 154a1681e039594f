"""Apply under injected faults: 5xx, dropped connections and lost responses never leave a
duplicate, and two runs converge. Counts come from the emulator's API, not dexter's report."""

from __future__ import annotations

import asyncio

import pytest

from dexter_sync.apply.report import Status
from dexter_sync.emulator.testing import running_emulator

from tests.test_apply_support import (apply_sync, duplicates, live_names, plan_only, prepare,
                                write_manifests)


@pytest.fixture
def emu(monkeypatch):
    with running_emulator(projects=["backend", "frontend"]) as handle:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", handle.token)
        prepare(handle)
        yield handle


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
    assert second.exit_code == 0 or first.exit_code == 0 or \
        all(o.status is Status.APPLIED for o in second.outcomes)
