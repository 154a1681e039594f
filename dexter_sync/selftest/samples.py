"""One small manifest entry per kind, named inside the sandbox, plus the one field its
update step changes.

A builder gets what the target organization offers (a project, a team, integrations, an
issue) and returns a Sample, or a string saying why the kind cannot be tried there. A kind
registered without a builder here (a new kind) is skipped with that reason, so adding a
kind never breaks the selftest; give it a builder to have it checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.directory import Directory, Integration
from .sandbox import Sandbox

REPO_PROVIDERS = ("github", "gitlab", "bitbucket", "vsts")
TRACKER_PROVIDERS = ("jira", "jira_server", "github", "gitlab", "vsts")


@dataclass(frozen=True)
class Target:
    """What the organization under test offers the samples."""

    sandbox: Sandbox
    directory: Directory
    project: str | None
    team: str | None
    member: str | None
    environment: str | None
    issue: str | None
    """Id of an existing issue the external-issue link sample may link."""

    def integration(self, providers: tuple[str, ...]) -> Integration | None:
        found = [i for i in self.directory.integrations.values() if i.provider in providers]
        return min(found, key=lambda i: (providers.index(i.provider), i.name)) if found else None


@dataclass(frozen=True)
class Sample:
    kind: str
    entry: dict[str, Any]
    """The manifest mapping (without `type:`; the manifest writer adds it)."""
    update: dict[str, Any] = field(default_factory=dict)
    """Fields the update step changes (one field); empty for kinds without updates."""
    parent: tuple[str, str] | None = None
    """(parent kind, field) for entries embedded in another kind's entry (deploys)."""

    def updated(self) -> dict[str, Any]:
        return {**self.entry, **self.update}


Builder = Callable[[Target, dict[str, "Sample"]], "Sample | str"]
"""(target, samples built so far) -> a Sample or the reason the kind is skipped."""


def metric_alert(t: Target, _: dict[str, Sample]) -> Sample | str:
    if t.project is None:
        return "the organization has no project"
    action = ({"email": {"team": t.team}} if t.team else
              {"email": {"user": t.member}} if t.member else None)
    if action is None:
        return "the organization has no team or member to notify"
    return Sample("metric_alert", {
        "name": t.sandbox.name("metric"), "project": t.project, "aggregate": "count()",
        "query": "", "time_window": 5, "threshold_type": "above",
        "triggers": {"critical": {"threshold": 100, "actions": [action]}},
    }, update={"threshold_period": 2})


def issue_alert(t: Target, _: dict[str, Sample]) -> Sample | str:
    if t.project is None:
        return "the organization has no project"
    # The run id in a filter keeps the rule from being an "exact duplicate" of another rule.
    return Sample("issue_alert", {
        "name": t.sandbox.name("issue"), "project": t.project,
        "conditions": ["first_seen_event"],
        "filters": [{"tagged_event": {"key": "dexter_selftest", "match": "eq",
                                      "value": t.sandbox.run_id}}],
        "actions": [{"email": {"target": "issue_owners", "fallthrough": "active_members"}}],
        "frequency": 30,
    }, update={"frequency": 60})


def discover_query(t: Target, _: dict[str, Sample]) -> Sample | str:
    if t.project is None:
        return "the organization has no project"
    return Sample("discover_query", {
        "name": t.sandbox.name("query"), "projects": [t.project],
        "query_dataset": "error-events", "fields": ["title", "count()"],
        "query": "event.type:error", "orderby": "-count", "range": "24h",
    }, update={"range": "7d"})


def release(t: Target, _: dict[str, Sample]) -> Sample | str:
    if t.project is None:
        return "the organization has no project"
    return Sample("release", {"version": t.sandbox.name("1.0.0"), "projects": [t.project],
                              "ref": "selftest-1"}, update={"ref": "selftest-2"})


def deploy(t: Target, samples: dict[str, Sample]) -> Sample | str:
    if "release" not in samples:
        return "needs the release sample"
    if t.environment is None:
        return "the organization has no environment"
    return Sample("deploy", {"environment": t.environment, "name": t.sandbox.name("deploy")},
                  parent=("release", "deploys"))


def repository(t: Target, _: dict[str, Sample]) -> Sample | str:
    integration = t.integration(REPO_PROVIDERS)
    if integration is None:
        return "the organization has no source-code integration (" + ", ".join(REPO_PROVIDERS) + ")"
    return Sample("repository", {
        "name": t.sandbox.name("repo") + "/app", "integration": integration.name,
        "provider": integration.provider,
    }, update={"url": "https://example.invalid/" + t.sandbox.name("repo")})


def code_mapping(t: Target, samples: dict[str, Sample]) -> Sample | str:
    repo = samples.get("repository")
    if repo is None or t.project is None:
        return "needs the repository sample and a project"
    return Sample("code_mapping", {
        "project": t.project, "repository": repo.entry["name"],
        "stack_root": t.sandbox.name("stack") + "/", "source_root": "src/",
        "default_branch": "main",
    }, update={"source_root": "lib/"})


def external_issue_link(t: Target, _: dict[str, Sample]) -> Sample | str:
    integration = t.integration(TRACKER_PROVIDERS)
    if integration is None or t.issue is None:
        return "needs an issue and an issue-tracker integration (" + ", ".join(TRACKER_PROVIDERS) + ")"
    return Sample("external_issue_link", {
        "issue": t.issue, "integration": integration.name, "provider": integration.provider,
        "key": t.sandbox.name("ticket"),
    })


def _monitor(kind: str, type_fields: dict[str, Any]) -> Builder:
    """A disabled monitor (it never opens an issue) of one detector type."""
    def build(t: Target, _: dict[str, Sample]) -> Sample | str:
        if t.project is None:
            return "the organization has no project"
        return Sample(kind, {"name": t.sandbox.name(kind.replace("_", "-")),
                             "project": t.project, "enabled": False, **type_fields},
                      update={"description": "changed by dexter selftest"})
    return build


metric_monitor = _monitor("metric_monitor", {
    "dataset": "events", "aggregate": "count()", "query": "level:error", "time_window": "5m",
    "threshold_type": "above", "triggers": {"critical": {"threshold": 100}}})
uptime_monitor = _monitor("uptime_monitor", {
    "url": "https://example.com/", "interval": "1h", "timeout": "5s"})
cron_monitor = _monitor("cron_monitor", {
    "schedule": "0 3 * * *", "checkin_margin": "5m", "max_runtime": "1h", "timezone": "UTC"})


def alert(t: Target, samples: dict[str, Sample]) -> Sample | str:
    monitor = samples.get("metric_monitor")
    if monitor is None:
        return "needs the metric_monitor sample"
    return Sample("alert", {
        "name": t.sandbox.name("alert"), "enabled": False,
        "monitors": [monitor.entry["name"]], "frequency": "30m",
        "actions": [{"email": {"target_type": "issue_owners"}}],
    }, update={"frequency": "1h"})


BUILDERS: dict[str, Builder] = {
    "metric_alert": metric_alert,
    "issue_alert": issue_alert,
    "discover_query": discover_query,
    "release": release,
    "deploy": deploy,
    "repository": repository,
    "code_mapping": code_mapping,
    "external_issue_link": external_issue_link,
    "metric_monitor": metric_monitor,
    "uptime_monitor": uptime_monitor,
    "cron_monitor": cron_monitor,
    "alert": alert,
}


def build_samples(target: Target, kinds: list[str]) -> tuple[dict[str, Sample], dict[str, str]]:
    """(samples by kind, skip reasons by kind), for `kinds` in dependency order."""
    samples: dict[str, Sample] = {}
    skipped: dict[str, str] = {}
    for kind in kinds:
        builder = BUILDERS.get(kind)
        if builder is None:
            skipped[kind] = f"no sample entry for kind {kind!r} (dexter_sync/selftest/samples.py)"
            continue
        built = builder(target, samples)
        if isinstance(built, str):
            skipped[kind] = built
        else:
            samples[kind] = built
    return samples, skipped
