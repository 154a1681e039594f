"""The selftest's checks one by one, in-process against the emulator on loopback: a check
that cannot run in an organization (no project, team, Slack channel or issue) is skipped
with the reason; a server that refuses or answers out of the contract fails exactly the
check or lifecycle step that met it, naming the request; the lifecycle's later steps of a
kind whose create failed are skipped, not failed again."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dexter_sync.core.directory import Directory, Integration
from dexter_sync.emulator.testing import EmulatorHandle, running_emulator
from dexter_sync.selftest.contract import (
    ContractContext,
    exact_duplicate,
    external_issue_listings,
    pagination_link,
    rate_limit_headers,
    release_208,
    slack_task,
    threshold_translation,
)
from dexter_sync.selftest.lifecycle import STEPS, Lifecycle
from dexter_sync.selftest.manifests import write_and_load
from dexter_sync.selftest.results import CheckFailed, CheckSkipped
from dexter_sync.selftest.runner import discover_target
from dexter_sync.selftest.samples import Target, build_samples
from dexter_sync.selftest.sandbox import Sandbox, SweepReport, sweep
from dexter_sync.selftest.traps import (
    aggregate_display,
    event_types_detail_only,
    issue_rule_read_forms,
)
from dexter_sync.sentry.connect import open_facade
from tests import hostile_http
from tests.hostile_http import hostile_server
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


def test_a_refused_delete_leaves_the_sample_that_the_next_run_names_and_the_sweep_removes(
        emu, tmp_path):
    emu.set_faults(error_rate=1.0, error_statuses=[400], route="/discover/saved/",
                   methods="DELETE")
    first = {name: (status, detail) for _, name, status, detail
             in lifecycle(emu, tmp_path / "first", ["discover_query"])}
    [left] = saved_queries(emu)
    route = f"DELETE /api/0/organizations/acme/discover/saved/{left['id']}/"
    assert first["delete"] == ("fail", f"request: {route}; Sentry: Sentry answered 400 to "
                                       f"{route}: Error (contract: REFERENCE.md §4)")
    emu.clear_faults()
    again = lifecycle(emu, tmp_path / "again", ["discover_query"])
    key = f"dexter-selftest-{RUN_ID}-query"
    assert again[0] == ("discover_query", "create", "fail", (
        f"the plan does not create discover_query/{key} (found: update); a leftover of this "
        "run id exists (contract: REFERENCE.md §4)"))
    assert {status for _, _, status, _ in again[1:]} == {"skip"}
    report = asyncio.run(sweep_acme(emu, tmp_path))
    assert report.deleted == [f"discover_query/{key}"]
    assert saved_queries(emu) == []


async def sweep_acme(emu: EmulatorHandle, tmp_path: Path) -> SweepReport:
    async with open_facade(sentry_url=emu.url, organization="acme", settings=FAST,
                           notify=lambda _: None) as facade:
        return await sweep(facade, write_and_load(tmp_path / "sweep", "acme", []))


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


# ---- a server out of the contract: the check fails naming the request and the difference -

API = "/api/0/organizations/acme"
RULES = f"{API}/alert-rules/"
ISSUE_RULES = "/api/0/projects/acme/backend/rules/"
PROJECTS = f"{API}/projects/"
GONE = (200, {}, {})
NOW = str(int(time.time()))
LINK = '<{u}>; rel="previous"; results="{p}"; cursor="0:0:1", <{u}>; rel="next"; ' \
       'results="{n}"; cursor="0:1:0"'


def link(previous: str = "false", nxt: str = "true") -> dict[str, str]:
    return {"Link": LINK.format(u="http://sentry.example" + PROJECTS, p=previous, n=nxt)}


def rule_answers(created: object, listed: object, detail: object, path: str = RULES
                 ) -> dict[str, hostile_http.Answer]:
    return {f"POST {path}": (201, created, {}), f"GET {path}": (200, listed, {}),
            f"GET {path}7/": (200, detail, {}), f"DELETE {path}7/": GONE}


SENT_AGGREGATE = "count_unique(tags[sentry:user])"
OUT_OF_CONTRACT = [
    pytest.param(aggregate_display, RULES, rule_answers({}, [], {}),
                 f"request: POST {RULES}; no rule in the answer: {{}}", id="no-rule-answered"),
    pytest.param(aggregate_display, RULES, rule_answers(
        {"id": 7, "aggregate": SENT_AGGREGATE}, [], {"id": 7, "aggregate": "count_unique(user)"}),
        f"request: POST {RULES} with aggregate '{SENT_AGGREGATE}'; expected "
        f"'count_unique(user)' in the answer and the detail, got ('{SENT_AGGREGATE}', "
        "'count_unique(user)') (REFERENCE.md §14.4)", id="aggregate-as-sent"),
    pytest.param(event_types_detail_only, RULES, rule_answers({"id": 7}, [{"id": 8}], {"id": 7}),
                 f"request: GET {RULES}; the new rule is not listed", id="not-listed"),
    pytest.param(event_types_detail_only, RULES, rule_answers(
        {"id": 7}, [{"id": 7, "eventTypes": ["error"]}], {"id": 7, "eventTypes": ["error"]}),
        f"request: POST {RULES} with eventTypes ['error']; expected no eventTypes in the list "
        "item and ['error'] in the detail, got ['error'] and ['error'] (REFERENCE.md §1.5)",
        id="event-types-listed"),
    pytest.param(issue_rule_read_forms, ISSUE_RULES, rule_answers({}, [], {}, ISSUE_RULES),
                 f"request: POST {ISSUE_RULES}; no rule in the answer: {{}}",
                 id="no-issue-rule-answered"),
    pytest.param(issue_rule_read_forms, ISSUE_RULES, rule_answers(
        {"id": 7}, [], {"conditions": [{"id": "first-seen"}],
                        "actions": [{"id": "mail", "name": "Send", "uuid": "not-a-uuid"}]},
        ISSUE_RULES),
        f"request: GET {ISSUE_RULES}7/; expected every node with a `name` and "
        "every action with a `uuid`; without a name: ['first-seen'], bad uuids: "
        "['not-a-uuid'] (REFERENCE.md §2.3, §14.5)", id="nodes-unnamed"),
    pytest.param(pagination_link, PROJECTS, {f"GET {PROJECTS}": (200, [{"id": 1}], {})},
                 f"request: GET {PROJECTS}; no Link header in the answer", id="no-link"),
    pytest.param(pagination_link, PROJECTS, {f"GET {PROJECTS}": (200, [{"id": 1}], {
        "Link": '<http://x/>; rel="next"; results="true"; cursor="0:1:0"'})},
        f"request: GET {PROJECTS}; expected Link entries previous, next; got ['next'] in "
        "'<http://x/>; rel=\"next\"; results=\"true\"; cursor=\"0:1:0\"'", id="link-next-only"),
    pytest.param(pagination_link, PROJECTS,
                 {f"GET {PROJECTS}": (200, [{"id": 1}], link(previous="true"))},
                 f"request: GET {PROJECTS}; the first page's previous link says "
                 "results='true', expected \"false\"", id="previous-on-page-one"),
    pytest.param(pagination_link, PROJECTS,
                 {f"GET {PROJECTS}": (200, [{"id": 1}, {"id": 2}], link())},
                 f"request: GET {PROJECTS}; expected an array of at most 1 item, got list of 2",
                 id="per-page-ignored"),
    pytest.param(pagination_link, PROJECTS, {f"GET {PROJECTS}": (200, [{"id": 1}], link())},
                 f"request: GET /api/0/organizations/acme/projects/?cursor=0:1:0; the next page "
                 "repeats the first or is not an array", id="page-two-repeats"),
    pytest.param(rate_limit_headers, PROJECTS, {f"GET {PROJECTS}": (200, [], {
        "X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Reset": NOW})},
        f"request: GET {PROJECTS}; has ['x-sentry-rate-limit-limit', "
        "'x-sentry-rate-limit-reset'] but not ['x-sentry-rate-limit-remaining']",
        id="rate-headers-partial"),
    pytest.param(rate_limit_headers, PROJECTS, {f"GET {PROJECTS}": (200, [], {
        "X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Remaining": "many",
        "X-Sentry-Rate-Limit-Reset": NOW})},
        f"request: GET {PROJECTS}; not an integer: x-sentry-rate-limit-remaining='many'",
        id="rate-remaining-not-a-number"),
    pytest.param(rate_limit_headers, PROJECTS, {f"GET {PROJECTS}": (200, [], {
        "X-Sentry-Rate-Limit-Limit": "40", "X-Sentry-Rate-Limit-Remaining": "39",
        "X-Sentry-Rate-Limit-Reset": "5"})},
        f"request: GET {PROJECTS}; X-Sentry-Rate-Limit-Reset=5 is not epoch seconds near now",
        id="rate-reset-not-epoch"),
]


def run_against(server: hostile_http.Hostile, check: Callable[[ContractContext], Awaitable[str]],
                integrations: tuple[Integration, ...] = ()) -> str:
    """One check against a server whose answers the test chose."""
    target = Target(sandbox=Sandbox(RUN_ID), directory=Directory(
        "acme", projects={"backend": "1"}, teams={"platform": "1001"},
        integrations={i.id: i for i in integrations}), project="backend",
        team="platform", member=None, environment=None, issue="77")

    async def main() -> str:
        async with open_facade(sentry_url=server.url, organization="acme", settings=FAST,
                               notify=lambda _: None) as facade:
            desired = write_and_load(Path(tempfile.mkdtemp()), "acme", [])
            return await check(ContractContext(facade, target, desired, read_only=False))
    return asyncio.run(main())


@pytest.fixture(scope="module")
def scripted_server() -> Iterator[hostile_http.Hostile]:
    with hostile_server() as server:
        yield server


def answering(server: hostile_http.Hostile, path: str, answers: dict[str, hostile_http.Answer]
              ) -> hostile_http.Hostile:
    server.hostile_path, server.behaviour = path, hostile_http.scripted(answers)
    server.requests.clear()
    return server


@pytest.mark.parametrize(("check", "path", "answers", "message"), OUT_OF_CONTRACT)
def test_an_answer_out_of_the_contract_fails_the_check_naming_it(scripted_server, check, path,
                                                                 answers, message):
    server = answering(scripted_server, path, answers)
    with pytest.raises(CheckFailed) as failed:
        run_against(server, check)
    assert str(failed.value) == message
    if f"POST {path}" in answers and answers[f"POST {path}"][1]:  # a rule was made: deleted
        assert server.requests[-1] == f"DELETE {path}7/"


def test_a_target_without_rate_limit_headers_skips_their_check(scripted_server):
    server = answering(scripted_server, PROJECTS, {f"GET {PROJECTS}": (200, [], {})})
    with pytest.raises(CheckSkipped) as skipped:
        run_against(server, rate_limit_headers)
    assert str(skipped.value) == (f"GET {PROJECTS} carries no rate-limit headers (self-hosted "
                                  "Sentry does not rate-limit)")


RELEASES = f"{API}/releases/"
ISSUE = f"{API}/issues/77/"
LINK_PUT = f"{ISSUE}integrations/24006/"
LINKED = (200, {"id": 9, "integrationId": 24006, "key": "K-1"}, {})
LISTED = {"integrationIssues": [{"key": "K-1", "id": "9", "integrationName": "Acme Jira"}]}
RELEASE_BODY = {"version": f"dexter-selftest-{RUN_ID}-208", "projects": ["backend"]}
WRITES_OUT_OF_CONTRACT = [
    pytest.param(release_208, {f"POST {RELEASES}": (201, {"id": 5}, {})},
                 f"request: POST {RELEASES} twice with {RELEASE_BODY}; expected statuses "
                 "(201, 208), got (201, 201)", id="release-created-twice"),
    pytest.param(release_208, {f"POST {RELEASES}": [(201, {"id": "5"}, {}),
                                                    (208, {"id": "5"}, {})]},
                 f"request: POST {RELEASES}; expected one integer id in both answers "
                 "(REFERENCE.md §14.11), got ['5', '5']", id="release-id-a-string"),
    pytest.param(exact_duplicate, {f"POST {ISSUE_RULES}": (201, {"id": 7}, {}),
                                   f"DELETE {ISSUE_RULES}7/": GONE},
                 f"request: POST {ISSUE_RULES}; expected 200 with the rule (REFERENCE.md "
                 "§14.6), got 201 {'id': 7}", id="issue-rule-created-201"),
    pytest.param(exact_duplicate, {f"POST {ISSUE_RULES}": [(200, {"id": 7}, {}),
                                                           (200, {"id": 8}, {})],
                                   f"DELETE {ISSUE_RULES}7/": GONE,
                                   f"DELETE {ISSUE_RULES}8/": GONE},
                 f"request: POST {ISSUE_RULES}; expected 400 exact duplicate, got 200",
                 id="duplicate-accepted"),
    pytest.param(exact_duplicate, {f"POST {ISSUE_RULES}": [
        (200, {"id": 7}, {}), (400, {"name": ["Name taken"]}, {})],
        f"DELETE {ISSUE_RULES}7/": GONE},
        f"request: POST {ISSUE_RULES}; expected 400 {{\"name\": [\"This rule is an exact "
        "duplicate of ...\"], \"ruleId\": [7]}, got {'name': ['Name taken']}",
        id="duplicate-refused-otherwise"),
    pytest.param(threshold_translation, {f"POST {RULES}": (201, {}, {})},
                 f"request: POST {RULES}; no rule in the answer (201)", id="percent-no-rule"),
    pytest.param(slack_task, {f"GET {API}/integrations/24001/channels/": (200, [
        {"name": "alerts"}], {}), f"POST {RULES}": (200, {"id": 7}, {}),
        f"DELETE {RULES}7/": GONE},
        f"request: POST {RULES} with Slack channel #alerts by name; expected 202 "
        "{\"uuid\": ...}, got 200 {'id': 7}", id="slack-not-asynchronous"),
    pytest.param(slack_task, {f"GET {API}/integrations/24001/channels/": (200, [
        {"name": "alerts"}], {}), f"POST {RULES}": (202, {"uuid": "u1"}, {}),
        "GET /api/0/projects/acme/backend/alert-rule-task/u1/": (200, {"status": "success"},
                                                                 {})},
        "GET .../alert-rule-task/u1/ succeeded without the rule: {'status': 'success', "
        "'rule': None}", id="slack-task-without-rule"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": (200, {"id": "9"}, {})},
                 f"request: PUT {LINK_PUT}; expected {{\"id\": int, \"integrationId\": int, "
                 "\"key\", ...} (REFERENCE.md §9.2), got {'id': '9'}", id="link-id-a-string"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": LINKED,
                                           f"GET {ISSUE}": (200, {}, {})},
                 f"request: GET {ISSUE}?expand=integrationIssues; expected an object with an "
                 "`integrationIssues` list, got []", id="detail-without-links"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": LINKED,
                                           f"GET {ISSUE}": (200, LISTED, {}),
                                           f"GET {ISSUE}integrations/": (200, {"x": 1}, {})},
                 f"request: GET {ISSUE}integrations/; expected a list of integrations each "
                 "with `externalIssues`, got {'x': 1}", id="listing-not-a-list"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": LINKED, f"GET {ISSUE}": (
        200, {"integrationIssues": [{"key": "K-1", "id": 9}]}, {}),
        f"GET {ISSUE}integrations/": (200, [], {})},
        f"request: GET {ISSUE}?expand=integrationIssues; expected the link K-1 once with id "
        "'9' (a string), got [{'key': 'K-1', 'id': 9}]", id="detail-link-id-an-int"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": LINKED, f"GET {ISSUE}": (
        200, {"integrationIssues": [{"key": "K-1", "id": "9"}]}, {}),
        f"GET {ISSUE}integrations/": (200, [], {})},
        f"request: GET {ISSUE}; the link lacks `integrationName`", id="link-unnamed"),
    pytest.param(external_issue_listings, {f"PUT {LINK_PUT}": LINKED,
                                           f"GET {ISSUE}": (200, LISTED, {}),
                                           f"GET {ISSUE}integrations/": (200, [
                                               {"id": "24006", "externalIssues": []}], {})},
                 f"request: GET {ISSUE}integrations/; expected the link K-1 under integration "
                 "24006 with id '9', got []", id="link-not-in-listing"),
]


@pytest.mark.parametrize(("check", "answers", "message"), WRITES_OUT_OF_CONTRACT)
def test_a_write_answered_out_of_the_contract_fails_the_check_and_cleans_up(
        scripted_server, check, answers, message):
    server = answering(scripted_server, "/api/0/", answers)
    with pytest.raises(CheckFailed) as failed:
        run_against(server, check, integrations=(Integration("24001", "Acme Slack", "slack"),
                                                 Integration("24006", "Acme Jira", "jira")))
    assert str(failed.value) == message
    made = [r.split("?")[0] for r in server.requests if r.startswith(("POST", "PUT"))]
    deleted = [r.split(" ")[1].split("?")[0] for r in server.requests if r.startswith("DELETE")]
    if check is release_208:
        assert deleted == [f"{RELEASES}dexter-selftest-{RUN_ID}-208/"]
    elif check is external_issue_listings:
        # a link answered without its integer ids is left to the run's final sweep
        assert deleted == ([LINK_PUT] if answers[f"PUT {LINK_PUT}"] is LINKED else [])
    else:  # each rule the check made, and only those
        ids = [str(a[1]["id"]) for key, value in answers.items() if key.startswith("POST")
               for a in (value if isinstance(value, list) else [value])
               if isinstance(a[1], dict) and "id" in a[1]]
        assert sorted(deleted) == sorted(f"{made[0].split(' ')[1]}{i}/" for i in ids)
