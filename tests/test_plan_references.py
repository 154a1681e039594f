"""Reference checks: every missing name is reported at once, with the manifest's file:line
and the closest existing name; repositories declared in the manifests count as existing."""

from __future__ import annotations

import textwrap

from dexter_sync.core.directory import Directory, Integration, Repository
from dexter_sync.core.references import check_references
from dexter_sync.kinds.registry import catalog
from dexter_sync.manifest import load_manifests

RULES = """
metric_alerts:
  - name: Errors
    project: backnd
    aggregate: count()
    time_window: 5m
    environment: prod
    triggers:
      critical:
        threshold: 10
        actions:
          - email: {team: backend-tem}
          - slack: {channel: "#alerts", workspace: acme-slak}
integration_links:
  - type: repository
    name: acme/new-repo
    integration: acme-github
    provider: github
  - type: code_mapping
    project: backend
    repository: acme/new-repo
    stack_root: app/
    source_root: src/
  - type: code_mapping
    project: backend
    repository: acme/unknown
    stack_root: lib/
    source_root: lib/
"""


def directory() -> Directory:
    return Directory(
        organization="acme", projects={"backend": "1", "frontend": "2"},
        teams={"backend-team": "3"}, environments={"production"},
        integrations={"10": Integration("10", "acme-slack", "slack"),
                      "11": Integration("11", "acme-github", "github")},
        repositories={"20": Repository("20", "acme/backend", "11", "integrations:github")},
    )


def load(tmp_path, body: str = RULES):
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
    (tmp_path / "r.yaml").write_text(textwrap.dedent(body))
    return load_manifests(tmp_path)


def line_of(tmp_path, diagnostic) -> str:
    return (tmp_path / "r.yaml").read_text().splitlines()[diagnostic.span.line - 1]


def test_every_missing_name_is_reported_with_position_and_hint(tmp_path):
    found = check_references(load(tmp_path), directory(), catalog())
    by_message = {d.message: d for d in found}
    assert len(found) == 5, [str(d) for d in found]
    project = by_message["project 'backnd' does not exist in acme"]
    assert project.code == "unknown-reference" and project.hint == "did you mean 'backend'?"
    assert "project: backnd" in line_of(tmp_path, project)
    team = by_message["team 'backend-tem' does not exist in acme"]
    assert team.hint == "did you mean 'backend-team'?"
    assert "backend-tem" in line_of(tmp_path, team)
    env = by_message["environment 'prod' does not exist in acme"]
    assert env.hint == "existing: production"  # too far for a did-you-mean
    slack = next(d for d in found if "slack integration" in d.message)
    assert "'acme-slak'" in slack.message and slack.hint == "did you mean 'acme-slack'?"
    repo = by_message["repository 'acme/unknown' is not connected to acme"]
    assert "acme/unknown" in line_of(tmp_path, repo)
    # the repository declared in the same manifests is not reported
    assert not any("acme/new-repo" in d.message for d in found)
    assert all(str(d).startswith(str(d.span)) for d in found)


def test_slack_channels_are_checked_against_a_complete_listing_only(tmp_path):
    body = RULES.replace("acme-slak", "acme-slack").replace("backnd", "backend") \
        .replace("backend-tem", "backend-team").replace("prod\n", "production\n") \
        .replace("acme/unknown", "acme/backend")
    desired = load(tmp_path, body)
    known = directory()
    known.slack_channels[("10", "#general")] = "C1"
    assert check_references(desired, known, catalog()) == []  # learned channels are only a subset
    known.slack_channel_listings = {"10"}
    found = check_references(desired, known, catalog())
    assert [d.message for d in found] == [
        "Slack channel '#alerts' does not exist in workspace 'acme-slack'"]
    known.slack_channels[("10", "#alerts")] = "C2"
    assert check_references(desired, known, catalog()) == []
