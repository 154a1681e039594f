"""Never a duplicate, for the writes Sentry does not make idempotent: deploys (a second POST
is a second deploy), Slack rules answered 202 + task (the 202 lost while Sentry's task still
runs, or the apply killed while it polls), issue rules caught by Sentry's exact-duplicate
check, external-issue links, updates and deletes whose answers are lost, and a `dexter apply`
process killed while its writes are provably in flight (held by the emulator). Each is
counted from the emulator's state: 0 duplicates, 0 missing, and a quiet plan after at most
3 runs of the real CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.test_apply_support import list_all
from tests.test_safety_cli import DEXTER, dexter, metric, writes

VERSION = "backend@1.0.0"
DEPLOYS = [("staging", "stage-1"), ("production", "prod-1")]
SLACK = '[{slack: {channel: "#alerts", workspace: acme-slack}}]'


@pytest.fixture
def emu(emu):
    """The apply emulator with a Slack workspace and channel, and a staging environment."""
    emu.ensure_names(integrations=[("slack", "acme-slack")],
                     slack_channels=[("acme-slack", "#alerts")], environments=["staging"])
    return emu


def without_channel_listing(emu) -> None:
    """A Sentry without the channel listing: dexter cannot send the channel id, so Sentry
    answers a Slack rule 202 + task (REFERENCE.md §1.2)."""
    emu.set_quirks(channel_listing=False)


def slack_statuses(emu) -> dict:
    return emu.counters()["routes"].get("POST /api/0/organizations/{org}/alert-rules/", {})


def manifests(root: Path, resources: str, *, prune: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text(
        "version: 1\norganization: acme\ninclude: ['*.yaml']\n"
        "safety: {max_update_percent: 100, max_delete_percent: 100}\n" + prune)
    (root / "resources.yaml").write_text(resources)
    return root


def release_manifests(root: Path) -> Path:
    deploys = "".join(f"      - {{environment: {env}, name: {name}}}\n" for env, name in DEPLOYS)
    return manifests(root, f"releases:\n  - version: '{VERSION}'\n    projects: [backend]\n"
                           f"    deploys:\n{deploys}")


def deploys(emu) -> Counter:
    return Counter((d["environment"], d["name"])
                   for d in list_all(emu, f"organizations/acme/releases/{VERSION}/deploys/"))


def metric_rules(emu) -> Counter:
    return Counter(r["name"] for r in list_all(emu, "organizations/acme/alert-rules/"))


def converge(emu, path: Path) -> int:
    """Apply until the plan is quiet, at most 3 runs; returns the runs it took."""
    for run in range(1, 4):
        dexter(emu, "apply", str(path), "--auto-approve")
        if dexter(emu, "plan", str(path), "--detailed-exitcode").returncode == 0:
            return run
    raise AssertionError("the plan is not quiet after 3 runs")


def killed_apply(emu, path: Path, *, hold: dict) -> None:
    """Start `dexter apply` as a process, SIGKILL it once the emulator holds a request of
    it (so that write or poll is provably in flight), then let the held request go on."""
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token}
    env.pop("SENTRY_URL", None)
    emu.hold(**hold)
    proc = subprocess.Popen([DEXTER, "apply", str(path), "--auto-approve", "--sentry-url",
                             emu.url], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while emu.holds()["held"] == 0:
            assert proc.poll() is None, "apply exited before a request was held"
            assert time.monotonic() < deadline, "no request was held"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        emu.release_holds()
    deadline = time.monotonic() + 30
    while emu.holds()["held"]:
        assert time.monotonic() < deadline, "held requests did not finish"
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["502", "drop"])
def test_deploys_whose_answers_are_lost_are_not_sent_twice(emu, tmp_path, mode):
    path = release_manifests(tmp_path / "m")
    emu.set_faults(route="/deploys/", methods="POST", lost_response_rate=1.0,
                   lost_response_mode=mode)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    assert deploys(emu) == Counter(DEPLOYS)  # each once: 0 duplicates, 0 missing


@pytest.mark.slow
def test_a_kill_between_a_release_and_its_deploys_converges(emu, tmp_path):
    path = release_manifests(tmp_path / "m")
    # the release is created; its first deploy is received and held, then the apply dies
    killed_apply(emu, path, hold={"route": "/deploys/", "methods": "POST"})
    assert [r["version"] for r in list_all(emu, "organizations/acme/releases/")] == [VERSION]
    assert sum(deploys(emu).values()) == 1  # the held deploy landed after the kill
    assert converge(emu, path) == 1
    assert deploys(emu) == Counter(DEPLOYS)
    assert [r["version"] for r in list_all(emu, "organizations/acme/releases/")] == [VERSION]


@pytest.mark.slow
def test_a_kill_while_the_slack_task_is_polled_converges(emu, tmp_path):
    without_channel_listing(emu)
    path = manifests(tmp_path / "m", "metric_alerts:\n" + metric("paged", 100, SLACK))
    # the 202 came back; the apply dies while it polls the task
    killed_apply(emu, path, hold={"route": "/alert-rule-task/", "methods": "GET"})
    assert slack_statuses(emu) == {"202": 1}
    assert converge(emu, path) == 1
    assert metric_rules(emu) == Counter({"paged": 1})


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["502", "drop"])
def test_a_slack_rule_whose_202_is_lost_is_not_sent_twice(emu, tmp_path, monkeypatch, mode):
    without_channel_listing(emu)
    # Sentry's task ends a second after the POST, unpolled: after dexter's first look-up
    emu.set_quirks(slack_task_delay=1.0, slack_task_polls=1000)
    monkeypatch.setenv("DEXTER_TASK_WAIT", "30")  # the bound; the rule shows up well before
    path = manifests(tmp_path / "m", "metric_alerts:\n" + metric("paged", 100, SLACK))
    emu.set_faults(route="/alert-rules/", methods="POST", lost_response_rate=1.0,
                   lost_response_mode=mode)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    assert sum(slack_statuses(emu).values()) == 1  # one POST, its 202 lost; never re-sent
    assert metric_rules(emu) == Counter({"paged": 1})  # 0 duplicates, 0 missing


def issue_rule(name: str) -> str:
    return (f"  - name: {name}\n    project: backend\n    conditions: [first_seen_event]\n"
            "    actions: [{email: {team: backend}}]\n")


@pytest.mark.slow
def test_an_issue_rule_with_slack_whose_202_is_lost_is_not_sent_twice(emu, tmp_path,
                                                                       monkeypatch):
    without_channel_listing(emu)
    emu.set_quirks(slack_task_delay=1.0, slack_task_polls=1000)
    monkeypatch.setenv("DEXTER_TASK_WAIT", "30")
    path = manifests(tmp_path / "m", "issue_alerts:\n" + issue_rule("ours").replace(
        "{email: {team: backend}}", SLACK[1:-1]))
    emu.set_faults(route="/rules/", methods="POST", lost_response_rate=1.0)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    posts = emu.counters()["routes"]["POST /api/0/projects/{org}/{project}/rules/"]
    assert sum(posts.values()) == 1  # its 202 lost, the task still running: never re-sent
    assert [r["name"] for r in list_all(emu, "projects/acme/backend/rules/")] == ["ours"]


@pytest.mark.slow
def test_an_issue_rule_lost_then_refused_as_exact_duplicate_is_adopted(emu, tmp_path):
    path = manifests(tmp_path / "m", "issue_alerts:\n" + issue_rule("ours"))
    emu.set_faults(route="/rules/", methods="POST", lost_response_rate=1.0)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    rules = list_all(emu, "projects/acme/backend/rules/")
    assert [r["name"] for r in rules] == ["ours"]


@pytest.mark.slow
def test_an_exact_duplicate_of_someone_elses_rule_is_refused_not_doubled(emu, tmp_path):
    first = manifests(tmp_path / "a", "issue_alerts:\n" + issue_rule("theirs"))
    assert converge(emu, first) == 1
    ours = manifests(tmp_path / "b", "issue_alerts:\n" + issue_rule("ours"))
    emu.reset_counters()
    result = dexter(emu, "apply", str(ours), "--auto-approve")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "duplicate" in (result.stdout + result.stderr).lower()
    assert writes(emu) == 1  # one POST, refused by Sentry's check; never sent again
    assert [r["name"] for r in list_all(emu, "projects/acme/backend/rules/")] == ["theirs"]


@pytest.mark.slow
def test_updates_and_deletes_whose_answers_are_lost_converge(emu, tmp_path):
    prune = "prune: {metric_alerts: true}\n"
    path = manifests(tmp_path / "m", "metric_alerts:\n" + "".join(
        metric(f"m{i}", 100 + i) for i in range(4)), prune=prune)
    assert converge(emu, path) == 1
    before = {r["name"]: r["id"] for r in list_all(emu, "organizations/acme/alert-rules/")}
    # two updated, two deleted; every PUT and DELETE commits and its answer is lost
    manifests(path, "metric_alerts:\n" + metric("m0", 500) + metric("m1", 501), prune=prune)
    emu.set_faults(methods="PUT,DELETE", lost_response_rate=1.0)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    after = list_all(emu, "organizations/acme/alert-rules/")
    assert {r["name"]: r["id"] for r in after} == {"m0": before["m0"], "m1": before["m1"]}
    thresholds = {r["name"]: r["triggers"][0]["alertThreshold"] for r in after}
    assert thresholds == {"m0": 500, "m1": 501}


def new_issue(emu) -> str:
    """One event to the backend project's DSN; the emulator groups it into an issue."""
    client = emu.client()
    project = client.get("projects/acme/backend/").json()
    [key] = client.get("projects/acme/backend/keys/").json()
    sent = client.post(f"{emu.url}/api/{project['id']}/store/",
                       params={"sentry_key": key["public"]},
                       json={"message": "checkout failed", "level": "error"})
    assert sent.status_code == 200, sent.text
    [issue] = client.get("organizations/acme/issues/", params={"query": ""}).json()
    return str(issue["shortId"])


TICKETS = ["PROJ-1", "PROJ-2"]
LINK_PUT = "PUT /api/0/organizations/{org}/issues/{issue_id}/integrations/{integration_id}/"


def link_manifests(emu, root: Path) -> tuple[Path, str]:
    emu.ensure_names(integrations=[("jira", "acme-jira")])
    issue = new_issue(emu)
    links = "".join(f"  - {{type: external_issue, issue: {issue}, integration: acme-jira, "
                    f"key: {ticket}}}\n" for ticket in TICKETS)
    return manifests(root, "integration_links:\n" + links), issue


def issue_links(emu, issue: str) -> Counter:
    """The issue's links as Sentry lists them: (integration, ticket key), counted."""
    return Counter((integration["name"], link["key"])
                   for integration in list_all(emu, f"organizations/acme/issues/{issue}/integrations/")
                   for link in integration["externalIssues"])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["502", "drop"])
def test_external_issue_links_whose_answers_are_lost_converge(emu, tmp_path, mode):
    path, issue = link_manifests(emu, tmp_path / "m")
    # every link write (dexter links by PUT; a POST would open a new ticket) commits and
    # its answer is lost
    emu.set_faults(route="/integrations/", methods="PUT,POST", lost_response_rate=1.0,
                   lost_response_mode=mode)
    assert converge(emu, path) <= 3
    emu.clear_faults()
    assert issue_links(emu, issue) == Counter(("acme-jira", t) for t in TICKETS)
    assert LINK_PUT.replace("PUT", "POST") not in emu.counters()["routes"]  # no new ticket


@pytest.mark.slow
def test_a_kill_while_a_link_is_written_converges(emu, tmp_path):
    path, issue = link_manifests(emu, tmp_path / "m")
    # the first link write is received and held, then the apply dies
    killed_apply(emu, path, hold={"route": "/integrations/", "methods": "PUT"})
    received = sum(emu.counters()["routes"][LINK_PUT].values())
    assert received >= 1
    assert sum(issue_links(emu, issue).values()) == received  # each held link landed once
    assert converge(emu, path) == 1
    assert issue_links(emu, issue) == Counter(("acme-jira", t) for t in TICKETS)
