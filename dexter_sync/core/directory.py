"""Name resolution: what manifests call by name (slug, email, channel) and Sentry by id.

Built by the facade from list endpoints, then passed by value to kinds, so that payload
building and normalization stay pure functions. Ids are strings throughout (Sentry returns
some as ints; see REFERENCE §14.11).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    provider: str
    """Provider key: `slack`, `github`, `jira`, `pagerduty`, `opsgenie`, `msteams`, ..."""


@dataclass(frozen=True)
class Repository:
    id: str
    name: str
    integration_id: str | None
    provider: str | None = None


@dataclass(frozen=True)
class Detector:
    """A Sentry detector ("monitor") other kinds link to by name (alerts)."""

    id: str
    name: str
    type: str
    """`metric_issue`, `uptime_domain_failure`, `monitor_check_in_failure`, or the system
    types `error` / `issue_stream` every project has."""
    project: str | None
    """Project slug."""


SYSTEM_DETECTOR_TYPES = ("error", "issue_stream")


@dataclass
class Directory:
    organization: str
    projects: dict[str, str] = field(default_factory=dict)
    """project slug -> project id"""
    teams: dict[str, str] = field(default_factory=dict)
    """team slug -> team id"""
    members: dict[str, str] = field(default_factory=dict)
    """member email -> user id"""
    integrations: dict[str, Integration] = field(default_factory=dict)
    """integration id -> Integration"""
    repositories: dict[str, Repository] = field(default_factory=dict)
    """repository id -> Repository"""
    environments: set[str] = field(default_factory=set)
    slack_channels: dict[tuple[str, str], str] = field(default_factory=dict)
    """(slack integration id, "#channel") -> Slack channel id, learned at plan time"""
    slack_channel_listings: set[str] = field(default_factory=set)
    """Slack integration ids whose every channel is in `slack_channels` (read from Sentry's
    channel listing), so a channel missing there really does not exist."""
    missing_issues: set[str] = field(default_factory=set)
    """Issues named in manifests that Sentry answered 404 for while reading their links."""
    detectors: dict[str, Detector] = field(default_factory=dict)
    """detector id -> Detector, learned while reading alerts (kinds' `learn` hook)"""

    # --- lookups by name (None when unknown; reference checks report the miss) ---

    def project_id(self, slug: str) -> str | None:
        return self.projects.get(slug)

    def project_slug(self, project_id: str | int) -> str | None:
        return _reverse_lookup(self, "projects", str(project_id))

    def team_id(self, slug: str) -> str | None:
        return self.teams.get(slug.removeprefix("#"))

    def team_slug(self, team_id: str | int) -> str | None:
        return _reverse_lookup(self, "teams", str(team_id))

    def user_id(self, email: str) -> str | None:
        return self.members.get(email.lower())

    def user_email(self, user_id: str | int) -> str | None:
        return _reverse_lookup(self, "members", str(user_id))

    def integration(self, name_or_id: str | int, provider: str | None = None) -> Integration | None:
        """By id, else by name; with `provider`, only integrations of that provider.

        With a provider and no name match, a provider that has exactly one integration
        installed is chosen (so `slack: {channel: "#x"}` needs no workspace name).
        """
        key = str(name_or_id) if name_or_id is not None else ""
        candidates = [
            i for i in self.integrations.values() if provider is None or i.provider == provider
        ]
        for i in candidates:
            if i.id == key or i.name == key:
                return i
        if not key and len(candidates) == 1:
            return candidates[0]
        return None

    def detector_id(self, name: str) -> str | None:
        """The id of the monitor (user-created detector) with this name."""
        return next((d.id for d in self.detectors.values()
                     if d.name == name and d.type not in SYSTEM_DETECTOR_TYPES), None)

    def system_detector_id(self, project: str, kind: str = "error") -> str | None:
        """The id of a project's system detector (`error` or `issue_stream`)."""
        return next((d.id for d in self.detectors.values()
                     if d.project == project and d.type == kind), None)

    def repository(self, name_or_id: str | int) -> Repository | None:
        key = str(name_or_id)
        if key in self.repositories:
            return self.repositories[key]
        return next((r for r in self.repositories.values() if r.name == key), None)


# ---- reverse lookups (id -> name) ------------------------------------------------------------
# A plan asks for names by id once per action and owner: a scan of the map each time made
# planning quadratic in practice. The reverse map is built lazily, kept outside the dataclass
# fields (so equality and repr are unchanged), and rebuilt whenever the forward map is
# replaced or changes size; a hit is checked against the forward map, so a value changed in
# place is never answered from a stale entry.

_REVERSE_PREFIX = "_reverse_"


def _reverse_lookup(directory: Directory, field_name: str, wanted: str) -> str | None:
    forward: dict[str, str] = getattr(directory, field_name)
    cached = directory.__dict__.get(_REVERSE_PREFIX + field_name)
    if cached is not None and cached[0] is forward and cached[1] == len(forward):
        name = cached[2].get(wanted)
        if name is not None and forward.get(name) == wanted:
            return cast("str | None", name)
    reverse: dict[str, str] = {}
    for name, ident in forward.items():
        reverse.setdefault(ident, name)  # the first name wins, as a scan would find it
    directory.__dict__[_REVERSE_PREFIX + field_name] = (forward, len(forward), reverse)
    return reverse.get(wanted)
