"""The embedded Sentry emulator: the CLI's target when no SENTRY_URL is set.

Only the CLI wires the emulator in (`connect(..., embedded=open_embedded)`); the sentry
package knows nothing of it.

State lives in `.dexter/local-sentry.sqlite` under the current directory. On first use (no
database yet) it is seeded with the organization and every project, team, member,
integration, repository, environment and Slack channel the manifests name, collected through
each kind's `references()` hook, so examples plan and apply on a fresh machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..core.state import DesiredState
from ..kinds.registry import get_kind
from ..sentry.connect import URL_ENV, EmbeddedSentry

DB_PATH = Path(".dexter") / "local-sentry.sqlite"
EMBEDDED_NOTICE = f"using the local Sentry emulator at {DB_PATH.as_posix()} ({URL_ENV} is not set)"


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

    def as_kwargs(self) -> dict[str, Any]:
        return {name: sorted(value, key=str) for name, value in vars(self).items()}


def names_in(desired: DesiredState, providers: set[str]) -> SeedNames:
    """Everything the manifests name that must exist in Sentry (known providers only)."""
    names = SeedNames()
    slack_scopes: list[tuple[str | None, str]] = []
    unnamed: set[str] = set()
    """Providers referenced without a name ("the one installed"): seed one only if no
    named integration of that provider is seeded, or the reference would be ambiguous."""
    for resource in desired.resources:
        for ref in get_kind(resource.kind).references(resource.entry):
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


def open_embedded(organization: str, desired: DesiredState | None, *,
                  db_path: Path = DB_PATH) -> EmbeddedSentry:
    """The embedded emulator as an in-process transport, seeded on first use."""
    # late: commands that never talk to Sentry (validate, --help) do not load the emulator
    from ..emulator import EmulatorConfig, create_app
    from ..emulator.seeding import PROVIDERS

    first_use = not db_path.exists()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(EmulatorConfig(db_path=str(db_path), organization=organization))
    created: dict[str, list[Any]] = {}
    if first_use and desired is not None:
        names = names_in(desired, set(PROVIDERS))
        created = app.state.store.ensure_names(organization, **names.as_kwargs())
    return EmbeddedSentry(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        close=app.state.store.close, notice=EMBEDDED_NOTICE,
        created={k: v for k, v in created.items() if v})
