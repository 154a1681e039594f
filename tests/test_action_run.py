"""The GitHub Action run for real: action.yml's steps executed as GitHub's runner would
(helpers_action), with GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_EVENT_PATH and a
pull_request event payload, against `dexter emulator` served on loopback and a loopback
server with GitHub's comment endpoints (helpers_github). The Python setup and install
steps are skipped (`install: 'false'`): this test's environment already has dexter.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dexter_sync.action.body import MARKER_PREFIX, marker
from dexter_sync.render.planfile import read_plan
from tests.helpers_action import ActionRun, run_action, runner_env
from tests.helpers_github import BODY_LIMIT, FakeGitHub, fake_github
from tests.test_emulator_clients import TOKEN as SENTRY_TOKEN
from tests.test_emulator_clients import started

EVENT = Path(__file__).parent / "data" / "github" / "pull_request_synchronize.json"
REPOSITORY, PULL = "acme/sentry-config", 42


def write_manifests(directory: Path, queries: list[str], *, query_text: str = "event.type:error",
                    settings: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "dexter.yaml").write_text(
        f"version: 1\norganization: acme\ninclude: [\"queries.yaml\"]\n{settings}",
        encoding="utf-8")
    entries = "".join(
        f"  - name: {json.dumps(name)}\n    projects: [backend]\n    fields: [title, count()]\n"
        f"    query: {json.dumps(query_text)}\n    range: 24h\n" for name in queries)
    (directory / "queries.yaml").write_text(f"discover_queries:\n{entries or '  []'}\n",
                                            encoding="utf-8")


@dataclass
class Job:
    """One repository checkout on a runner: the workspace, the event, the tokens."""

    workspace: Path
    sentry_url: str
    github: FakeGitHub
    github_token: str

    def run(self, event: str = "pull_request", **inputs: str) -> ActionRun:
        env = runner_env(workspace=self.workspace, event_path=EVENT, event_name=event,
                         api_url=self.github.url,
                         extra={"SENTRY_AUTH_TOKEN": SENTRY_TOKEN,
                                "GITHUB_TOKEN": self.github_token})
        return run_action({"install": "false", "path": "sentry",
                           "sentry-url": self.sentry_url, **inputs}, env,
                          workspace=self.workspace)

    def manifests(self, queries: list[str], **kwargs: str) -> None:
        write_manifests(self.workspace / "sentry", queries, **kwargs)

    def dexter_comments(self) -> list[dict]:
        return [c for c in self.github.on(REPOSITORY, PULL)
                if c["body"].startswith(MARKER_PREFIX)]

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.github.requests if r.method != "GET"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `dexter emulator` process for the module; each test starts from its reset."""
    with started(tmp_path_factory.mktemp("emulator")) as emulator:
        yield emulator["url"]


@pytest.fixture
def job(tmp_path: Path, served: str) -> Iterator[Job]:
    reset = httpx.post(f"{served}/__emulator__/reset/", headers=sentry_api())
    assert reset.status_code == 200, reset.text
    token = "ghs_" + secrets.token_hex(18)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with fake_github(token) as github:
        yield Job(workspace, served, github, token)


def assert_no_token(job: Job, *runs: ActionRun) -> None:
    texts = [c["body"] for c in job.github.comments.values()]
    for run in runs:
        texts += [run.log, run.summary, json.dumps(run.outputs)]
    texts += [p.read_text(encoding="utf-8") for p in job.workspace.rglob("*.json")]
    for secret in (SENTRY_TOKEN, job.github_token):
        assert not [t for t in texts if secret in t]


def sentry_api() -> dict[str, str]:
    return {"Authorization": f"Bearer {SENTRY_TOKEN}"}


def test_pull_request_plan_sets_outputs_and_updates_one_comment_in_place(job: Job) -> None:
    # earlier conversation: 120 comments (the list spans two pages); one quotes the marker
    for i in range(120):
        job.github.add(REPOSITORY, PULL, f"review note {i}", "alice")
    job.github.add(REPOSITORY, PULL, f"> quoting {marker('sentry')} here", "bob")
    job.manifests(["Errors today", "Slow checkout"])

    first = job.run()
    assert not first.failed, first.log
    assert first.skipped == ["Set up Python", "Install dexter"]
    assert [s.id for s in first.steps] == ["dexter"]
    assert first.outputs["has-changes"] == "true"
    assert first.outputs["summary"] == "2 to create, 0 to update, 0 to delete"
    assert (first.outputs["to-create"], first.outputs["to-update"],
            first.outputs["to-delete"]) == ("2", "0", "0")
    saved = read_plan(job.workspace / first.outputs["plan-file"])
    assert sorted(c.key for c in saved.changes) == ["Errors today", "Slow checkout"]
    [comment] = job.dexter_comments()
    assert first.outputs["comment-id"] == str(comment["id"])
    assert first.outputs["comment-url"] == comment["html_url"]
    assert "Errors today" in comment["body"] and "`424242424242`" in comment["body"]
    assert "| **total** | **2** |" in first.summary
    assert job.writes() == [("POST", f"/repos/{REPOSITORY}/issues/{PULL}/comments")]

    job.manifests(["Errors today", "Slow checkout", "Checkout errors"])
    second = job.run()
    assert not second.failed, second.log
    assert second.outputs["summary"] == "3 to create, 0 to update, 0 to delete"
    [again] = job.dexter_comments()
    assert again["id"] == comment["id"] and second.outputs["comment-id"] == str(comment["id"])
    assert "Checkout errors" in again["body"]
    assert job.writes()[1:] == [("PATCH", f"/repos/{REPOSITORY}/issues/comments/{comment['id']}")]
    assert len(job.github.on(REPOSITORY, PULL)) == 122
    sent = [r for r in job.github.requests]
    assert {r.headers["Authorization"] for r in sent} == {f"Bearer {job.github_token}"}
    assert {r.headers["X-GitHub-Api-Version"] for r in sent} == {"2022-11-28"}
    assert_no_token(job, first, second)


def test_changes_only_posts_nothing_for_an_empty_plan_and_off_never_calls_github(job: Job
                                                                                  ) -> None:
    job.manifests([])
    quiet = job.run()
    assert not quiet.failed, quiet.log
    assert quiet.outputs["has-changes"] == "false"
    assert quiet.outputs["summary"] == "0 to create, 0 to update, 0 to delete"
    assert quiet.outputs["comment-id"] == ""
    assert "No changes" in quiet.summary
    assert job.writes() == []

    job.manifests(["Errors today"])
    off = job.run(comment="off")
    assert not off.failed, off.log
    assert off.outputs["has-changes"] == "true"
    assert job.github.requests[1:] == []

    always = job.run(comment="always")
    assert not always.failed, always.log
    assert len(job.dexter_comments()) == 1
    job.manifests([])
    cleared = job.run()  # the earlier comment is brought up to date, not left standing
    assert not cleared.failed, cleared.log
    [comment] = job.dexter_comments()
    assert "No changes" in comment["body"] and "Errors today" not in comment["body"]


def test_merge_applies_exactly_the_reviewed_plan_and_refuses_a_stale_one(job: Job) -> None:
    job.manifests(["Errors today", "Slow checkout"])
    reviewed = job.run(**{"plan-file": "reviewed/plan.json"})
    assert not reviewed.failed, reviewed.log
    # after the review, someone else's change lands in the manifests but not in the plan
    job.manifests(["Errors today", "Slow checkout", "Not reviewed"])
    merged = job.run("push", command="apply", **{"plan-file": "reviewed/plan.json"})
    assert not merged.failed, merged.log
    assert merged.outputs["summary"] == "2 to create, 0 to update, 0 to delete"
    assert merged.outputs["has-changes"] == "true"
    assert "2 applied, 0 failed, 0 not attempted" in merged.summary
    checksum = json.loads((job.workspace / "reviewed" / "plan.json").read_text())["checksum"]
    assert f"saved plan `{checksum}`" in reviewed.summary
    assert f"The reviewed plan this job applies (saved plan <code>{checksum}</code>)" \
        in merged.summary
    assert "Not reviewed" not in merged.summary + merged.log
    live = httpx.get(f"{job.sentry_url}/api/0/organizations/acme/discover/saved/",
                     headers=sentry_api()).json()
    assert sorted(q["name"] for q in live) == ["Errors today", "Slow checkout"]

    job.manifests(["Errors today", "Slow checkout", "Checkout errors"])
    stale = job.run(**{"plan-file": "stale.json"})
    assert stale.outputs["to-create"] == "1"
    made = httpx.post(f"{job.sentry_url}/api/0/organizations/acme/discover/saved/",
                      headers=sentry_api(),
                      json={"name": "Checkout errors", "projects": [], "version": 2,
                            "fields": ["count()"], "query": "", "range": "24h"})
    assert made.status_code == 201, made.text
    refused = job.run("push", command="apply", **{"plan-file": "stale.json"})
    assert refused.failed and refused.steps[-1].exit_code == 1
    assert "::error title=dexter apply%3A the reviewed plan is stale::" in refused.log
    assert "Checkout errors: created since the plan" in refused.summary
    assert "Run the pull request's plan again" in refused.summary
    assert refused.outputs["has-changes"] == ""
    assert_no_token(job, reviewed, merged, stale, refused)


def test_apply_without_a_plan_file_plans_and_applies(job: Job) -> None:
    job.manifests(["Errors today"])
    applied = job.run("push", command="apply")
    assert not applied.failed, applied.log
    assert applied.outputs["summary"] == "1 to create, 0 to update, 0 to delete"
    assert applied.outputs["plan-file"] == ""
    again = job.run("push", command="apply")
    assert not again.failed, again.log
    assert again.outputs["has-changes"] == "false"
    assert job.run("push").outputs["has-changes"] == "false"
    assert job.github.requests == []  # a push is not a pull request: no comment


def test_a_missing_plan_file_fails_the_job_with_advice(job: Job) -> None:
    job.manifests(["Errors today"])
    missing = job.run("push", command="apply", **{"plan-file": "nowhere.json"})
    assert missing.failed
    assert "::error title=dexter apply%3A no reviewed plan::" in missing.log
    assert "[missing-plan-file]" in missing.summary


def test_an_oversize_plan_is_summarized_under_githubs_limit(job: Job) -> None:
    long_query = "transaction:/api/checkout* " + " ".join(f"tag{i}:value" for i in range(40))
    job.manifests([f"Query {i:04}" for i in range(1200)], query_text=long_query)
    run = job.run()
    assert not run.failed, run.log
    assert run.outputs["to-create"] == "1200"
    [comment] = job.dexter_comments()
    assert 60_000 < len(comment["body"]) <= BODY_LIMIT
    assert "more changes not shown" in comment["body"]
    assert len(run.summary) <= BODY_LIMIT + 2


def test_a_failed_plan_fails_the_step_and_marks_the_old_comment(job: Job) -> None:
    job.manifests(["Errors today"])
    assert not job.run().failed
    (job.workspace / "sentry" / "queries.yaml").write_text(
        "discover_queries:\n  - name: Broken\n    projects: [backend]\n    range: forever\n",
        encoding="utf-8")
    broken = job.run()
    assert broken.failed and broken.steps[-1].exit_code == 1
    assert "::error title=dexter plan failed::" in broken.log
    assert "queries.yaml:4" in broken.summary
    [comment] = job.dexter_comments()
    assert "dexter plan failed" in comment["body"] and "Errors today" not in comment["body"]


def test_templates_cannot_read_the_github_token(job: Job) -> None:
    job.manifests(["Errors today"], query_text="{{ env.GITHUB_TOKEN | default('unset') }}")
    run = job.run()
    assert not run.failed, run.log
    [comment] = job.dexter_comments()
    assert "unset" in comment["body"]
    assert_no_token(job, run)


def test_missing_tokens_are_clear_failures(job: Job) -> None:
    job.manifests(["Errors today"])
    env = runner_env(workspace=job.workspace, event_path=EVENT, event_name="pull_request",
                     api_url=job.github.url, extra={})
    inputs = {"install": "false", "path": "sentry", "sentry-url": job.sentry_url}
    no_sentry = run_action(inputs, env, workspace=job.workspace)
    assert no_sentry.failed and "SENTRY_AUTH_TOKEN is not set" in no_sentry.log
    no_github = run_action(inputs, {**env, "SENTRY_AUTH_TOKEN": SENTRY_TOKEN},
                           workspace=job.workspace)
    assert no_github.failed and "GITHUB_TOKEN is not set" in no_github.log
    assert job.github.requests == []


def test_the_plan_file_artifact_is_replaced_only_by_a_good_plan(job: Job) -> None:
    job.manifests(["Errors today"])
    assert not job.run().failed
    good = (job.workspace / "dexter-plan.json").read_text(encoding="utf-8")
    shutil.rmtree(job.workspace / "sentry")
    assert job.run().failed
    assert (job.workspace / "dexter-plan.json").read_text(encoding="utf-8") == good
    assert sorted(p.name for p in job.workspace.iterdir()) == ["dexter-plan.json"]


def test_an_edited_plan_file_is_refused_before_anything_is_applied(job: Job) -> None:
    job.manifests(["Errors today"])
    assert not job.run().failed
    plan = job.workspace / "dexter-plan.json"
    plan.write_text(plan.read_text(encoding="utf-8").replace("Errors today", "Errors later"),
                    encoding="utf-8")
    refused = job.run("push", command="apply", **{"plan-file": "dexter-plan.json"})
    assert refused.failed
    assert "[corrupt-plan]" in refused.log and "checksum" in refused.summary
    live = httpx.get(f"{job.sentry_url}/api/0/organizations/acme/discover/saved/",
                     headers=sentry_api()).json()
    assert live == []


@pytest.mark.parametrize(("inputs", "message"), [
    ({"command": "destroy"}, "input command: 'destroy' is not one of plan, apply"),
    ({"comment": "sometimes"}, "input comment: 'sometimes' is not one of"),
])
def test_a_bad_input_is_a_clear_failure(job: Job, inputs: dict[str, str], message: str
                                        ) -> None:
    job.manifests(["Errors today"])
    run = job.run(**inputs)
    assert run.failed and run.steps[-1].exit_code == 1
    assert message in run.log and "[action-input]" in run.log
    assert job.github.requests == []


def test_an_unsafe_plan_is_shown_on_the_pull_request_and_refused_on_merge(job: Job) -> None:
    limits = "prune: {discover_queries: true}\nsafety: {max_delete_percent: 30, min_existing: 2}\n"
    job.manifests(["One", "Two", "Three"], settings=limits)
    assert not job.run("push", command="apply").failed
    job.manifests([], settings=limits)
    planned = job.run()
    assert not planned.failed, planned.log
    assert planned.outputs["summary"] == "0 to create, 0 to update, 3 to delete"
    [comment] = job.dexter_comments()
    assert "This plan needs `--force` to apply" in comment["body"]
    refused = job.run("push", command="apply")
    assert refused.failed
    assert "::error title=dexter apply failed::" in refused.log
    assert "[unsafe-plan]" in refused.summary
    live = httpx.get(f"{job.sentry_url}/api/0/organizations/acme/discover/saved/",
                     headers=sentry_api()).json()
    assert sorted(q["name"] for q in live) == ["One", "Three", "Two"]


def test_an_incomplete_apply_fails_the_job_with_exit_3_and_lists_what_failed(job: Job
                                                                            ) -> None:
    job.manifests(["Errors today"])
    faults = httpx.put(f"{job.sentry_url}/__emulator__/faults/", headers=sentry_api(),
                       json={"error_rate": 1.0, "error_statuses": [400], "methods": "POST"})
    assert faults.status_code == 200, faults.text
    partial = job.run("push", command="apply")
    assert partial.failed and partial.steps[-1].exit_code == 3
    assert "::error title=dexter apply incomplete::failed: 1, not attempted: 0" in partial.log
    assert "0 applied, 1 failed, 0 not attempted" in partial.summary
    assert "| failed | create | discover_query | Errors today |" in partial.summary
    assert partial.outputs["to-create"] == "1"
