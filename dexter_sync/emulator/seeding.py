"""Creating the organization-level objects the emulator serves (projects, teams, members,
integrations, repositories, environments, Slack channels), idempotently by name.

Used by `Store.ensure_names` (embedded mode and tests) and by the routes that create
objects implicitly (environments named by a deploy, project keys of a new project).
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from .store import Store, now_iso

PROVIDERS: dict[str, dict[str, Any]] = {
    "slack": {"name": "Slack", "features": ["alert-rule", "chat-unfurl"]},
    "github": {"name": "GitHub", "features": ["commits", "issue-basic", "stacktrace-link",
                                              "codeowners"]},
    "gitlab": {"name": "GitLab", "features": ["commits", "issue-basic", "stacktrace-link"]},
    "bitbucket": {"name": "Bitbucket", "features": ["commits", "issue-basic"]},
    "jira": {"name": "Jira", "features": ["issue-basic", "issue-sync"]},
    "jira_server": {"name": "Jira Server", "features": ["issue-basic", "issue-sync"]},
    "vsts": {"name": "Azure DevOps", "features": ["commits", "issue-basic"]},
    "pagerduty": {"name": "PagerDuty", "features": ["alert-rule", "incident-management"]},
    "opsgenie": {"name": "Opsgenie", "features": ["alert-rule", "incident-management"]},
    "msteams": {"name": "Microsoft Teams", "features": ["alert-rule", "chat-unfurl"]},
    "discord": {"name": "Discord", "features": ["alert-rule", "chat-unfurl"]},
    "github_enterprise": {"name": "GitHub Enterprise", "features": ["commits", "issue-basic"]},
}
REPO_PROVIDERS = {"github", "gitlab", "bitbucket", "vsts"}


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.strip().lower()).strip("-") or "x"


def find_org(store: Store, ref: str | int) -> dict[str, Any] | None:
    """An organization by slug or id (a copy: safe to change and `put`)."""
    ref = str(ref)
    for org in store.snapshot("org", ""):
        if org["slug"] == ref or str(org["id"]) == ref:
            return copy.deepcopy(org)
    return None


def ensure_org(store: Store, slug: str, created: dict[str, list[Any]]) -> dict[str, Any]:
    org = find_org(store, slug)
    if org is None:
        org = store.insert("org", "", {"slug": slug, "name": slug.title(),
                                       "dateCreated": now_iso()})
        created["organization"].append(slug)
    return org


def find_by(store: Store, kind: str, org: dict[str, Any], ref: str | int, *keys: str) -> dict[str, Any] | None:
    """An org object by id or by one of `keys` (slug, name...); a copy, safe to change."""
    ref = str(ref)
    for record in store.snapshot(kind, org["id"]):
        if str(record["id"]) == ref or any(str(record.get(k)) == ref for k in keys):
            return copy.deepcopy(record)
    return None


def ensure_project(store: Store, org: dict[str, Any], slug: str, *, actor: dict[str, Any] | None = None,
                   platform: str | None = None) -> tuple[dict[str, Any], bool]:
    existing = find_by(store, "project", org, slug, "slug")
    if existing:
        return existing, False
    project = store.insert("project", org["id"], {
        "slug": slugify(slug), "name": slug, "platform": platform,
        "dateCreated": now_iso(), "teams": []})
    key_seed = hashlib.sha256(f"{org['slug']}/{project['id']}".encode()).hexdigest()
    store.insert("project_key", org["id"], {
        "projectId": project["id"], "public": key_seed[:32], "secret": key_seed[32:],
        "label": "Default", "dateCreated": now_iso()}, scope=str(project["id"]))
    store.audit(org["id"], actor=actor, event="project.create", target=project["id"],
                data={"slug": project["slug"]})
    return project, True


def ensure_environment(store: Store, org: dict[str, Any], name: str) -> tuple[dict[str, Any], bool]:
    for env in store.query("environment", org["id"]):
        if env["name"] == name:
            return env, False
    return store.insert("environment", org["id"], {"name": name}), True


def ensure_names(store: Store, organization: str, *, projects: Iterable[str] = (),
                 teams: Iterable[str] = (), members: Iterable[str] = (),
                 integrations: Iterable[tuple[str, str]] = (),
                 repositories: Iterable[tuple[str, str | None]] = (),
                 environments: Iterable[str] = (),
                 slack_channels: Iterable[tuple[str, str]] = (),
                 issues: Iterable[str] = ()) -> dict[str, list[Any]]:
    """Create whatever of the named objects is missing; returns what was created, by kind.

    Integrations are `(provider, name)`; repositories `(owner/name, integration name or
    None)`; Slack channels `(integration name, "#channel")`; issues by short id
    (`BACKEND-12`: one event in project `backend`, grouped into that issue). Idempotent.
    """
    created: dict[str, list[Any]] = {k: [] for k in (
        "organization", "projects", "teams", "members", "integrations", "repositories",
        "environments", "slack_channels", "issues")}
    actor = {"type": "system", "name": "emulator"}
    with store.transaction():
        org = ensure_org(store, organization, created)
        team_ids = []
        for slug in teams:
            team = find_by(store, "team", org, slug, "slug")
            if team is None:
                team = store.insert("team", org["id"], {
                    "slug": slugify(slug), "name": slug, "dateCreated": now_iso()})
                store.audit(org["id"], actor=actor, event="team.create", target=team["id"],
                            data={"slug": team["slug"]})
                created["teams"].append(slug)
            team_ids.append(team["id"])
        for slug in projects:
            project, new = ensure_project(store, org, slug, actor=actor)
            if new:
                created["projects"].append(slug)
                if team_ids:  # new projects belong to the first named team, as in the UI
                    project["teams"] = [team_ids[0]]
                    store.put("project", project)
        for email in members:
            _ensure_member(store, org, email, created, actor)
        for provider, name in integrations:
            if provider not in PROVIDERS:
                raise ValueError(f"unknown integration provider {provider!r}")
            if find_by(store, "integration", org, name, "name") is None:
                integ = store.insert("integration", org["id"], {
                    "name": name, "provider": provider, "dateCreated": now_iso()})
                integ["externalId"] = f"{provider.upper()[:1]}{integ['id']:08d}"
                store.put("integration", integ)
                store.audit(org["id"], actor=actor, event="integration.add",
                            target=integ["id"], data={"provider": provider, "name": name})
                created["integrations"].append(name)
        for repo_name, integ_name in repositories:
            _ensure_repo(store, org, repo_name, integ_name, created, actor)
        for name in environments:
            if ensure_environment(store, org, name)[1]:
                created["environments"].append(name)
        for integ_name, channel in slack_channels:
            _ensure_channel(store, org, integ_name, channel, created)
        for short_id in issues:
            _ensure_issue(store, org, short_id, created, actor)
    return created


def _ensure_issue(store: Store, org: dict[str, Any], short_id: str, created: dict[str, Any], actor: dict[str, Any]) -> None:
    """An issue with this short id, made the way Sentry makes issues: from an event."""
    from .routes.ingest import record_event  # late: the route module imports the store layer

    wanted = short_id.upper()
    if any(i["shortId"] == wanted for i in store.query("issue", org["id"])):
        return
    slug, _, number = short_id.rpartition("-")
    if not slug or not number.isdigit():
        raise ValueError(f"issue {short_id!r} is not a short id such as BACKEND-12")
    project, new = ensure_project(store, org, slug.lower(), actor=actor)
    if new:
        created["projects"].append(slug.lower())
    record_event(store, org, project, {"message": f"Seeded issue {wanted}",
                                       "level": "error", "fingerprint": [f"seed:{wanted}"]})
    issue = max(store.query("issue", org["id"], scope=str(project["id"])),
                key=lambda i: i["id"])
    issue["shortId"] = wanted
    store.put("issue", issue)
    while store.next_id(f"short_id:{project['id']}") < int(number):
        pass  # later issues of the project are numbered after this one, never reuse it
    created["issues"].append(wanted)


def _ensure_member(store: Store, org: dict[str, Any], email: str, created: dict[str, Any], actor: dict[str, Any]) -> None:
    if store.find("member", org["id"], email=email):
        return
    user_id = store.next_id("user")
    member = store.insert("member", org["id"], {
        "email": email, "name": email.split("@")[0], "userId": user_id, "role": "member",
        "dateCreated": now_iso()})
    store.audit(org["id"], actor=actor, event="member.add", target=member["id"],
                data={"email": email})
    created["members"].append(email)


def _ensure_repo(store: Store, org: dict[str, Any], repo_name: str, integ_name: str | None,
                 created: dict[str, Any], actor: dict[str, Any]) -> None:
    if store.find("repo", org["id"], name=repo_name):
        return
    integ = find_by(store, "integration", org, integ_name, "name") if integ_name else None
    if integ_name and integ is None:
        raise ValueError(f"repository {repo_name!r} names unknown integration {integ_name!r}")
    provider = integ["provider"] if integ else "github"
    host = {"gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}.get(provider, "github.com")
    repo = store.insert("repo", org["id"], {
        "name": repo_name, "provider": provider, "integrationId": integ["id"] if integ else None,
        "url": f"https://{host}/{repo_name}", "status": "active", "dateCreated": now_iso()})
    repo["externalId"] = str(800000 + repo["id"])
    store.put("repo", repo)
    store.audit(org["id"], actor=actor, event="repo.add", target=repo["id"],
                data={"name": repo_name})
    created["repositories"].append(repo_name)


def _ensure_channel(store: Store, org: dict[str, Any], integ_name: str, channel: str,
                    created: dict[str, Any]) -> None:
    integ = find_by(store, "integration", org, integ_name, "name")
    if integ is None or integ["provider"] != "slack":
        raise ValueError(f"Slack channel {channel!r} names unknown Slack integration "
                         f"{integ_name!r}")
    name = channel.lstrip("#@")
    if store.find("slack_channel", org["id"], integrationId=integ["id"], name=name):
        return
    record = store.insert("slack_channel", org["id"], {"integrationId": integ["id"],
                                                       "name": name})
    record["channelId"] = f"C{record['id']:08X}"
    store.put("slack_channel", record)
    created["slack_channels"].append(channel)
