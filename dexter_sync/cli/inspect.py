"""`dexter inspect`: look at live Sentry objects. `dexter inspect issue ISSUE` shows one issue
with its latest events, stats, tags and participants (fetched in parallel)."""

from __future__ import annotations

import json
from typing import Any

import click

from .common import connect, local_settings_org, resolve_org, run, sentry_options
from .inspect_alert import alert_command

TOP_TAG_VALUES = 3


@click.group(name="inspect")
def command() -> None:
    """Look at live Sentry objects."""


@command.command(name="issue")
@click.argument("issue")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@sentry_options
def issue_command(issue: str, fmt: str, sentry_url: str | None, org: str | None,
                  concurrency: int) -> None:
    """Show ISSUE (numeric id or short id such as WEB-1A): latest events, stats, tags and
    participants."""
    organization = resolve_org(org, local_settings_org())

    async def fetch() -> dict[str, Any]:
        async with connect(sentry_url=sentry_url, organization=organization,
                           concurrency=concurrency) as facade:
            return await facade.issue_context(issue)

    context = run(fetch())
    if fmt == "json":
        click.echo(json.dumps(context, indent=2, sort_keys=True, default=str))
    else:
        click.echo(render_issue(context))


def render_issue(context: dict[str, Any]) -> str:
    """The text view of an issue context (pure)."""
    issue = context.get("issue") or {}
    project = (issue.get("project") or {}).get("slug", "?")
    lines = [
        f"{issue.get('shortId') or issue.get('id')}  {issue.get('title', '')}",
        f"  status: {issue.get('status', '?')}  level: {issue.get('level', '?')}  "
        f"project: {project}  events: {issue.get('count', '?')}  "
        f"users: {issue.get('userCount', '?')}",
        f"  first seen: {issue.get('firstSeen', '?')}  last seen: {issue.get('lastSeen', '?')}",
    ]
    if issue.get("permalink"):
        lines.append(f"  {issue['permalink']}")
    for period, points in (context.get("stats") or {}).items():
        counts = [p[1] for p in points if isinstance(p, (list, tuple)) and len(p) > 1]
        lines.append(f"stats ({period}): {sum(counts)} events in {len(counts)} buckets")
    events = context.get("latest_events") or []
    lines.append(f"latest events ({len(events)}):")
    for event in events:
        lines.append(f"  {event.get('dateCreated', '?')}  "
                     f"{event.get('eventID') or event.get('id')}  {event.get('title', '')}")
    tags = context.get("tags") or []
    if tags:
        lines.append("tags:")
    for tag in tags:
        values = tag.get("topValues") or []
        shown = ", ".join(f"{v.get('value')} ({v.get('count')})" for v in values[:TOP_TAG_VALUES])
        lines.append(f"  {tag.get('key')}: {shown or tag.get('totalValues', '')}")
    people = context.get("participants") or []
    names = [p.get("email") or p.get("name") or str(p.get("id")) for p in people
             if isinstance(p, dict)]
    lines.append(f"participants: {', '.join(names) if names else 'none'}")
    if context.get("missing"):
        lines.append(f"(not served by this Sentry: {', '.join(context['missing'])})")
    return "\n".join(lines)


command.add_command(alert_command)  # `inspect alert`: its own module, the alert-history view
