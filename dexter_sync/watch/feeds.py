"""Sentry's own happenings as events: new and regressed issues, incidents opened and
resolved, releases deployed. Each watcher turns one list answer into events once per change
of state; the first answer only primes it (what existed before the daemon started is not
news).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from .events import WatchEvent, as_object
from .tracker import ChangeTracker

SEEN_ISSUES = 10_000
"""Issue ids remembered, so an issue that leaves and re-enters the polled window is not
new again (bounded: memory stays flat)."""

CLOSED = 2  # incident status "closed" (shown "Resolved")


class IssueWatcher:
    types = ("issue.new", "issue.regressed")

    def __init__(self, organization: str) -> None:
        self.organization = organization
        self.tracker: ChangeTracker[str] = ChangeTracker()
        self.seen: OrderedDict[str, None] = OrderedDict()

    def _remember(self, issue_id: str) -> bool:
        """True when the id was seen before."""
        known = issue_id in self.seen
        self.seen[issue_id] = None
        self.seen.move_to_end(issue_id)
        while len(self.seen) > SEEN_ISSUES:
            self.seen.popitem(last=False)
        return known

    def events(self, issues: list[dict[str, Any]]) -> list[WatchEvent]:
        by_id = {str(i.get("id")): i for i in issues}
        current = {k: str(i.get("substatus")) for k, i in by_id.items()}
        if not self.tracker.primed:
            self.tracker.prime(current)
            for issue_id in by_id:
                self._remember(issue_id)
            return []
        delta = self.tracker.update(current)
        out: list[WatchEvent] = []
        for issue_id in delta.appeared + delta.changed:
            issue = by_id[issue_id]
            known = self._remember(issue_id)
            if issue.get("substatus") == "regressed":
                out.append(self._event("issue.regressed", issue))
            elif not known:
                out.append(self._event("issue.new", issue))
        return out

    def _event(self, kind: str, issue: dict[str, Any]) -> WatchEvent:
        project = as_object(issue.get("project"))
        return WatchEvent(kind, self.organization, "issue", str(issue.get("shortId") or
                                                               issue.get("id")),
                          {"id": str(issue.get("id")), "short_id": issue.get("shortId"),
                           "title": issue.get("title"), "culprit": issue.get("culprit"),
                           "level": issue.get("level"), "project": project.get("slug"),
                           "first_seen": issue.get("firstSeen"),
                           "last_seen": issue.get("lastSeen"), "count": issue.get("count"),
                           "permalink": issue.get("permalink")})


class IncidentWatcher:
    types = ("incident.opened", "incident.resolved")

    def __init__(self, organization: str) -> None:
        self.organization = organization
        self.tracker: ChangeTracker[str] = ChangeTracker()

    def events(self, incidents: list[dict[str, Any]]) -> list[WatchEvent]:
        by_id = {str(i.get("identifier") or i.get("id")): i for i in incidents}
        current = {k: "closed" if i.get("status") == CLOSED else "open"
                   for k, i in by_id.items()}
        if not self.tracker.primed:
            self.tracker.prime(current)
            return []
        before = dict(self.tracker.known)
        delta = self.tracker.update(current)
        out: list[WatchEvent] = []
        for ident in delta.appeared:  # opened (and maybe already closed) since the last poll
            out.append(self._event("incident.opened", by_id[ident]))
            if current[ident] == "closed":
                out.append(self._event("incident.resolved", by_id[ident]))
        for ident in delta.changed:
            if current[ident] == "closed" and before[ident] == "open":
                out.append(self._event("incident.resolved", by_id[ident]))
        return out

    def _event(self, kind: str, incident: dict[str, Any]) -> WatchEvent:
        rule = as_object(incident.get("alertRule"))
        return WatchEvent(kind, self.organization, "incident",
                          str(incident.get("identifier")),
                          {"id": incident.get("id"), "identifier": incident.get("identifier"),
                           "title": incident.get("title"), "status": incident.get("status"),
                           "projects": incident.get("projects"),
                           "alert_rule": {"id": rule.get("id"), "name": rule.get("name")},
                           "date_started": incident.get("dateStarted"),
                           "date_closed": incident.get("dateClosed")})


class ReleaseWatcher:
    types = ("release.deployed",)

    def __init__(self, organization: str) -> None:
        self.organization = organization
        self.tracker: ChangeTracker[str] = ChangeTracker()

    def events(self, releases: list[dict[str, Any]]) -> list[WatchEvent]:
        by_version = {str(r.get("version")): r for r in releases}
        current = {v: str((r.get("lastDeploy") or {}).get("id") or "")
                   for v, r in by_version.items()}
        if not self.tracker.primed:
            self.tracker.prime(current)
            return []
        delta = self.tracker.update(current)
        return [self._event(by_version[v]) for v in delta.appeared + delta.changed
                if current[v]]

    def _event(self, release: dict[str, Any]) -> WatchEvent:
        deploy = release.get("lastDeploy") or {}
        return WatchEvent("release.deployed", self.organization, "release",
                          str(release.get("version")),
                          {"version": release.get("version"),
                           "deploy_id": deploy.get("id"),
                           "environment": deploy.get("environment"),
                           "deploy_name": deploy.get("name"),
                           "date_finished": deploy.get("dateFinished"),
                           "projects": [p.get("slug") for p in release.get("projects") or []
                                        if isinstance(p, dict)]})
