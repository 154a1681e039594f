"""The embedded Sentry emulator: the CLI's target when no SENTRY_URL is set.

Only the CLI wires the emulator in (`connect(..., embedded=open_embedded)`); the sentry
package knows nothing of it.

State lives in `.dexter/local-sentry.sqlite` under the current directory, or wherever
DEXTER_EMBEDDED_DB says (`dexter emulator --reset` deletes it). On first use (no
database yet) it is seeded with the organization and every project, team, member,
integration, repository, environment and Slack channel the manifests name, collected through
each kind's `references()` hook, so examples plan and apply on a fresh machine.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..core.state import DesiredState
from ..kinds.registry import get_kind
from ..sentry.connect import URL_ENV, EmbeddedSentry

DB_PATH = Path(".dexter") / "local-sentry.sqlite"
DB_ENV = "DEXTER_EMBEDDED_DB"


@dataclass
class SeedNames:
    projects: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    integrations: set[tuple[str, str]] = field(default_factory=set)
    repositories: set[tuple[str, str | None]] = field(default_factory=set)
    environments: set[str] = field(default_factory=set)
    slack_channels: set[tuple[str, str]] = field(default_factory=set)
    issues: set[str] = field(default_factory=set)
    """Short ids (`BACKEND-12`) named by external issue links."""
    uses: Counter[str] = field(default_factory=Counter)
    """How often the manifests name each project/team/channel...: of two names one edit
    apart, the rarer one is the likely typo."""

    def as_kwargs(self) -> dict[str, Any]:
        return {name: sorted(value, key=str) for name, value in vars(self).items()
                if name != "uses"}


def embedded_db_path() -> Path:
    """Where the embedded emulator keeps its state: DEXTER_EMBEDDED_DB, else `.dexter/`."""
    return Path(os.environ.get(DB_ENV) or DB_PATH)


def one_edit_apart(a: str, b: str) -> bool:
    """True when `b` is `a` with one character inserted, deleted or replaced."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def seed_report(created: dict[str, list[Any]], uses: Counter[str]) -> list[str]:
    """What the first run created, one kind per line, then a warning for each name one edit
    away from another name of its kind that the manifests use at least as often."""
    lines = []
    warnings = []
    for kind, names in created.items():
        labels = [_label(name) for name in names]
        lines.append(f"  {kind.replace('_', ' ')}: {', '.join(labels)}")
        for label in labels:
            twins = [other for other in labels
                     if one_edit_apart(label, other) and uses[other] >= uses[label]]
            if twins:
                warnings.append(f"  warning: created {_singular(kind)} {label!r} "
                                f"(did you mean {twins[0]!r}?)")
    return lines + warnings


def _label(name: object) -> str:
    return "/".join(map(str, name)) if isinstance(name, (tuple, list)) else str(name)


def _singular(kind: str) -> str:
    return {"repositories": "repository", "slack_channels": "Slack channel",
            "issues": "issue"}.get(kind, kind.removesuffix("s").replace("_", " "))


def names_in(desired: DesiredState, providers: set[str]) -> SeedNames:
    """Everything the manifests name that must exist in Sentry (known providers only)."""
    names = SeedNames()
    slack_scopes: list[tuple[str | None, str]] = []
    unnamed: set[str] = set()
    """Providers referenced without a name ("the one installed"): seed one only if no
    named integration of that provider is seeded, or the reference would be ambiguous."""
    for resource in desired.resources:
        for ref in get_kind(resource.kind).references(resource.entry):
            names.uses[ref.name.removeprefix("#").lower() if ref.kind == "member"
                       else ref.name] += 1
            if ref.kind == "project":
                names.projects.add(ref.name)
            elif ref.kind == "team":
                names.teams.add(ref.name.removeprefix("#"))
            elif ref.kind == "member":
                names.members.add(ref.name.lower())
            elif ref.kind == "environment":
                names.environments.add(ref.name)
            elif ref.kind == "integration" and ref.provider in providers:
                if ref.name:
                    names.integrations.add((ref.provider, ref.name))
                else:
                    unnamed.add(ref.provider)
            elif ref.kind == "repository":
                names.repositories.add((ref.name, ref.scope))
            elif ref.kind == "issue" and not ref.name.isdigit():
                names.issues.add(ref.name.upper())
            elif ref.kind == "slack_channel":
                slack_scopes.append((ref.scope, ref.name))
    for provider in sorted(unnamed):
        if not any(p == provider for p, _ in names.integrations):
            names.integrations.add((provider, provider))
    slack_names = sorted(n for p, n in names.integrations if p == "slack")
    for scope, channel in slack_scopes:
        workspace = scope or (slack_names[0] if slack_names else "slack")
        if "slack" in providers:
            names.integrations.add(("slack", workspace))
        names.slack_channels.add((workspace, channel if channel.startswith("#") else f"#{channel}"))
    return names


def embedded_notice() -> str:
    """Said on every run that talks to the embedded emulator."""
    return (f"using the local Sentry emulator at {embedded_db_path().as_posix()} "
            f"({URL_ENV} is not set)")


def open_embedded(organization: str, desired: DesiredState | None, *,
                  db_path: Path | None = None) -> EmbeddedSentry:
    """The embedded emulator as an in-process transport; on first use seeded with what the
    manifests name (the report says what; it is empty on later runs)."""
    # late: commands that never talk to Sentry (validate, --help) do not load the emulator
    from ..emulator import EmulatorConfig, create_app
    from ..emulator.seeding import PROVIDERS

    db_path = db_path or embedded_db_path()
    first_use = not db_path.exists()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(EmulatorConfig(db_path=str(db_path), organization=organization))
    report: list[str] = []
    if first_use and desired is not None:
        names = names_in(desired, set(PROVIDERS))
        created = app.state.store.ensure_names(organization, **names.as_kwargs())
        report = seed_report({k: v for k, v in created.items() if v}, names.uses)
    return EmbeddedSentry(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                          close=app.state.store.close, notice=embedded_notice(),
                          report=report)
