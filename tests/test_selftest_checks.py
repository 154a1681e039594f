"""The selftest's checks one by one, in-process against the emulator on loopback: a check
that cannot run in an organization (no project, team, Slack channel or issue) is skipped
with the reason; a server that refuses or answers out of the contract fails exactly the
check or lifecycle step that met it, naming the request; the lifecycle's later steps of a
kind whose create failed are skipped, not failed again."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dexter_sync.emulator.testing import EmulatorHandle, running_emulator
from dexter_sync.selftest.contract import (
    ContractContext,
    exact_duplicate,
    external_issue_listings,
    pagination_link,
    slack_task,
    threshold_translation,
)
from dexter_sync.selftest.lifecycle import STEPS, Lifecycle
from dexter_sync.selftest.manifests import write_and_load
from dexter_sync.selftest.results import CheckFailed, CheckSkipped
from dexter_sync.selftest.runner import discover_target
from dexter_sync.selftest.samples import Target, build_samples
from dexter_sync.selftest.sandbox import Sandbox
from dexter_sync.selftest.traps import aggregate_display
from dexter_sync.sentry.connect import open_facade
from tests.test_apply_support import FAST

RUN_ID = "0a1b2c3d"


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with running_emulator(projects=["backend"], teams=["platform"],
                          members=["ana@example.com"]) as handle:
        handle.ensure_names(integrations=[("slack", "Acme Slack")])
        yield handle


@pytest.fixture(autouse=True)
def clean(emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", emu.token)
    yield
    emu.clear_faults()
    emu.set_quirks(channel_listing=True)


def run_with_context(emu: EmulatorHandle, tmp_path: Path,
                     check: Callable[[ContractContext], Awaitable[str]],
                     organization: str = "acme", **target_changes: Any) -> str:
    """Run one check on the organization as discovered, with `target_changes` applied
    (an organization without a team, an issue, ...)."""
    async def main() -> str:
        async with open_facade(sentry_url=emu.url, organization=organization, settings=FAST,
                               notify=lambda _: None) as facade:
            directory = await facade.read_directory(fresh=True)
            target = await discover_target(facade, directory, Sandbox(RUN_ID), None)
            target = dataclasses.replace(target, **target_changes)
            desired = write_and_load(tmp_path / "samples", organization, [])
            return await check(ContractContext(facade, target, desired, read_only=False))
    return asyncio.run(main())


def prefixed_alert_rules(emu: EmulatorHandle) -> list[str]:
    rules = emu.client().get("organizations/acme/alert-rules/").json()
    return [r["name"] for r in rules if RUN_ID in r["name"]]


# ---- what the organization lacks: skipped with the reason --------------------------------

@pytest.mark.parametrize(("check", "lacking", "reason"), [
    (exact_duplicate, {"project": None}, "the organization has no project"),
    (aggregate_display, {"team": None, "member": None},
     "the organization has no team or member to notify"),
    (external_issue_listings, {"issue": None}, "the organization has no issue to read"),
])
def test_a_check_the_organization_cannot_support_is_skipped(emu, tmp_path, check, lacking,
                                                            reason):
    with pytest.raises(CheckSkipped) as skipped:
        run_with_context(emu, tmp_path, check, **lacking)
    assert str(skipped.value) == reason
    assert prefixed_alert_rules(emu) == []


def test_without_a_team_the_rules_notify_a_member(emu, tmp_path):
    seen = run_with_context(emu, tmp_path, aggregate_display, team=None)
    assert seen == ("POST /api/0/organizations/acme/alert-rules/: "
                    "count_unique(tags[sentry:user]) reads back as count_unique(user)")
    assert prefixed_alert_rules(emu) == []  # the check deleted its rule


def test_slack_check_is_skipped_without_slack_or_a_channel_to_name(emu, tmp_path):
    [slack] = emu.client().get("organizations/acme/integrations/").json()
    channels = f"GET /api/0/organizations/acme/integrations/{slack['id']}/channels/"
    with pytest.raises(CheckSkipped) as skipped:
        run_with_context(emu, tmp_path, slack_task, directory=dataclasses.replace(
            asyncio.run(_directory(emu)), integrations={}))
    assert str(skipped.value) == "the organization has no Slack integration"
    with pytest.raises(CheckSkipped) as skipped:  # the workspace has no channel
        run_with_context(emu, tmp_path, slack_task)
    assert str(skipped.value) == f"{channels} lists no channel"
    emu.set_quirks(channel_listing=False)  # a Sentry from before the listing answers 404
    with pytest.raises(CheckSkipped) as skipped:
        run_with_context(emu, tmp_path, slack_task)
    assert str(skipped.value) == f"no Slack channel known: {channels} answered 404"


async def _directory(emu: EmulatorHandle) -> Any:
    async with open_facade(sentry_url=emu.url, organization="acme", settings=FAST,
                           notify=lambda _: None) as facade:
        return await facade.read_directory(fresh=True)


def test_one_page_of_projects_has_no_page_two_to_follow(emu, tmp_path):
    emu.store.ensure_names("solo", projects=["only"])
    seen = run_with_context(emu, tmp_path, pagination_link, organization="solo")
    header = emu.client().get("organizations/solo/projects/",
                              params={"per_page": 1}).headers["link"]
    assert 'rel="next"; results="false"' in header
    assert seen == f"GET /api/0/organizations/solo/projects/: one page only ({header})"


# ---- a server that refuses: the check fails naming the request ---------------------------

def test_a_refused_percent_change_rule_fails_the_translation_check(emu, tmp_path):
    emu.set_faults(error_rate=1.0, error_statuses=[400], route="/alert-rules/",
                   methods="POST")
    with pytest.raises(CheckFailed) as failed:
        run_with_context(emu, tmp_path, threshold_translation)
    assert str(failed.value) == (
        "request: POST /api/0/organizations/acme/alert-rules/ (above, critical 30, resolve "
        "10, comparisonDelta 60); Sentry refused it: Error (REFERENCE.md §1.3: translate, "
        "then check)")
    emu.clear_faults()
    assert prefixed_alert_rules(emu) == []


# ---- the lifecycle ------------------------------------------------------------------------

def lifecycle(emu: EmulatorHandle, tmp_path: Path, kinds: list[str]) -> list[tuple[str, str,
                                                                                   str, str]]:
    async def main() -> list[tuple[str, str, str, str]]:
        async with open_facade(sentry_url=emu.url, organization="acme", settings=FAST,
                               notify=lambda _: None) as facade:
            directory = await facade.read_directory(fresh=True)
            target = await discover_target(facade, directory, Sandbox(RUN_ID), None)
            samples, skipped = build_samples(target, kinds)
            assert skipped == {}
            results = await Lifecycle(facade, samples, tmp_path).run()
            return [(r.kind or "", r.name, r.status, r.detail) for r in results]
    return asyncio.run(main())


def saved_queries(emu: EmulatorHandle) -> list[dict[str, Any]]:
    return [q for q in emu.client().get("organizations/acme/discover/saved/").json()
            if RUN_ID in q["name"]]


def test_a_refused_create_fails_once_and_skips_the_kinds_later_steps(emu, tmp_path):
    emu.set_faults(error_rate=1.0, error_statuses=[400], route="/discover/saved/",
                   methods="POST")
    results = lifecycle(emu, tmp_path, ["discover_query"])
    assert [(kind, name, status) for kind, name, status, _ in results] == [
        ("discover_query", step, "fail" if step == "create" else "skip") for step in STEPS]
    assert results[0][3] == ("request: POST /api/0/organizations/acme/discover/saved/; "
                             "Sentry: Sentry answered 400 to POST /api/0/organizations/acme/"
                             "discover/saved/: Error (contract: REFERENCE.md §4)")
    assert {detail for _, _, status, detail in results if status == "skip"} == {
        "create failed"}
    assert saved_queries(emu) == []


def test_a_refused_update_fails_update_and_plan_quiet_and_the_sample_is_still_deleted(
        emu, tmp_path):
    emu.set_faults(error_rate=1.0, error_statuses=[400], route="/discover/saved/",
                   methods="PUT")
    results = {name: (status, detail) for _, name, status, detail
               in lifecycle(emu, tmp_path, ["discover_query"])}
    assert {name: status for name, (status, _) in results.items()} == {
        "create": "pass", "read-list": "pass", "normalized": "pass", "read-detail": "pass",
        "update": "fail", "plan-quiet": "fail", "delete": "pass"}
    key = f"dexter-selftest-{RUN_ID}-query"
    assert results["update"][1].startswith("request: PUT /api/0/organizations/acme/"
                                           "discover/saved/")
    assert results["update"][1].endswith("Error (contract: REFERENCE.md §4)")
    assert results["plan-quiet"][1] == (
        f"after apply the plan still wants to update discover_query/{key}: range: sent "
        "'7d', read '24h' (contract: REFERENCE.md §4)")
    assert saved_queries(emu) == []


def test_a_plan_that_cannot_be_made_fails_every_create(emu, tmp_path):
    emu.set_faults(error_rate=1.0, error_statuses=[400], route="/discover/saved/",
                   methods="GET")
    results = lifecycle(emu, tmp_path, ["discover_query", "release"])
    creates = [(kind, status) for kind, name, status, _ in results if name == "create"]
    assert creates == [("discover_query", "fail"), ("release", "fail")]
    assert all(detail.startswith("planning the samples failed: Sentry answered 400 to GET "
                                 "/api/0/organizations/acme/discover/saved/")
               for _, name, _, detail in results if name == "create")
    assert len(results) == 2  # nothing else ran
