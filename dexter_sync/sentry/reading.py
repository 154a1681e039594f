"""Reading live state: the directory (names <-> ids) and every requested kind, concurrently.

One request per page of a list endpoint, never one GET per object: a read of N objects
costs about N/100 pages plus one list per project (for project-scoped kinds) plus the
directory's lists. Kinds are used only through their hooks (`list_requests`, `items`,
`to_live_object`); a kind with `depends_on` starts once its dependencies are read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..core.diagnostics import DexterError
from ..core.directory import Directory, Integration, Repository
from ..core.requests import ApiRequest, ApiResponse, path_segment
from ..core.state import DesiredResource, DesiredState, LiveObject, LiveState
from ..kinds.base import ListRequest, ReadContext, ResourceKind
from ..kinds.registry import apply_order, get_kind
from .channels import read_slack_channels
from .errors import Gone, NotFound, SentryError
from .gateway import Gateway
from .links import next_cursor

log = logging.getLogger(__name__)


async def list_all(gateway: Gateway, request: ApiRequest) -> list[Any]:
    """Every item of a paged list endpoint."""
    items: list[Any] = []
    async for page in gateway.pages(request):
        if isinstance(page.body, list):
            items.extend(page.body)
    return items


async def read_directory(gateway: Gateway, organization: str) -> Directory:
    """Projects, teams, members, integrations, repositories and environments (6 lists)."""
    org = f"organizations/{path_segment(organization)}"
    lists = await _directory_lists(gateway, org, organization)
    projects, teams, members, integrations, repos, environments = lists
    directory = Directory(organization=organization)
    directory.projects = {p["slug"]: str(p["id"]) for p in projects if "slug" in p}
    directory.teams = {t["slug"]: str(t["id"]) for t in teams if "slug" in t}
    for member in members:
        user = member.get("user") or {}
        email = member.get("email") or user.get("email")
        if email and user.get("id") is not None:  # invited members have no user yet
            directory.members[email.lower()] = str(user["id"])
    for item in integrations:
        provider = item.get("provider") or {}
        key = provider.get("key") if isinstance(provider, dict) else str(provider)
        directory.integrations[str(item["id"])] = Integration(
            id=str(item["id"]), name=item.get("name", ""), provider=key or "")
    for item in repos:
        provider = item.get("provider") or {}
        integration_id = item.get("integrationId")
        directory.repositories[str(item["id"])] = Repository(
            id=str(item["id"]), name=item.get("name", ""),
            integration_id=str(integration_id) if integration_id is not None else None,
            provider=provider.get("id") if isinstance(provider, dict) else provider)
    directory.environments = {e["name"] for e in environments
                              if isinstance(e, dict) and "name" in e}
    return directory


async def _directory_lists(gateway: Gateway, org: str, organization: str
                           ) -> tuple[list[Any], ...]:
    """The six lists. Every one answering 404 means the organization is missing (or hidden
    from the token); only some of them answering 404 names those listings and the likely
    cause, a token without the scope to read them."""

    async def one(path: str, params: dict[str, Any]) -> list[Any] | NotFound:
        try:
            return await list_all(gateway, ApiRequest("GET", f"{org}/{path}", params=params))
        except NotFound as error:
            return error

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(path, params)) for path, params, _ in _DIRECTORY_LISTS]
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    results = [task.result() for task in tasks]
    missing = [(spec, r) for spec, r in zip(_DIRECTORY_LISTS, results, strict=True)
               if isinstance(r, NotFound)]
    if len(missing) == len(results):
        first = missing[0][1]
        raise SentryError(f"organization {organization!r} was not found in Sentry, or the "
                          f"token cannot see it ({first.method} {first.path} answered 404)",
                          code="unknown-organization")
    if missing:
        named = "; ".join(f"{error.method} {error.path} answered 404 (reading it needs one "
                          f"of the scopes {scopes})" for (_, _, scopes), error in missing)
        raise SentryError(f"organization {organization!r} exists, but a listing dexter reads "
                          f"to resolve names was not found: {named}; the token most likely "
                          "lacks that scope (or the endpoint is disabled on this Sentry)",
                          code="sentry-listing-not-found")
    return tuple(r for r in results if not isinstance(r, NotFound))


_DIRECTORY_LISTS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("projects/", {}, "org:read, project:read"),
    ("teams/", {"detailed": 0}, "org:read, team:read"),
    ("members/", {}, "org:read, member:read"),
    ("integrations/", {"includeConfig": 0}, "org:read, org:integrations"),
    ("repos/", {}, "org:read"),
    ("environments/", {}, "org:read, project:read"))


def read_order(kinds: list[str]) -> list[str]:
    """The requested kinds plus their dependencies, dependencies first."""
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in wanted:
            wanted.add(name)
            for dep in get_kind(name).depends_on:
                add(dep)

    for name in kinds:
        add(name)
    return [name for name in apply_order() if name in wanted]


async def read_state(gateway: Gateway, directory: Directory, kinds: list[str], *,
                     projects: list[str] | None = None,
                     desired: DesiredState | None = None,
                     all_details: bool = False) -> LiveState:
    """Live objects of every requested kind (and of the kinds they depend on).

    Fields only detail responses carry (`live_optional_fields`) are read for the objects
    whose manifest entry declares one, or for every object with `all_details` (export)."""
    scope = project_scope(directory, projects)
    live = LiveState(directory=directory, objects={name: [] for name in kinds})
    order = read_order(kinds)
    for name in order:
        live.objects.setdefault(name, [])
    tasks: dict[str, asyncio.Task[Any]] = {}

    async def run(kind: ResourceKind[Any]) -> None:
        for dep in kind.depends_on:
            if dep in tasks:
                await tasks[dep]
        ctx = ReadContext(organization=directory.organization, directory=directory,
                          projects=scope, desired=desired.of_kind(kind.name) if desired else [],
                          live=live)
        await read_kind(gateway, kind, ctx, into=live.objects[kind.name])
        await read_details(gateway, kind, directory.organization, live.objects[kind.name],
                           ctx.desired, every=all_details)

    try:
        async with asyncio.TaskGroup() as group:
            for name in order:
                tasks[name] = group.create_task(run(get_kind(name)))
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    learn_slack_channels(live)
    await read_slack_channels(gateway, directory, desired)
    return live


async def read_details(gateway: Gateway, kind: ResourceKind[Any], organization: str,
                       objects: list[LiveObject], desired: list[DesiredResource], *,
                       every: bool = False) -> None:
    """Complete `objects` with what only their detail responses carry, one GET each,
    concurrently under the gateway's limits: only for objects whose declared entry sets a
    detail-only field (so a list read stays N/100 requests otherwise)."""
    detail_request = getattr(kind, "detail_request", None)
    fields = set(getattr(kind, "live_optional_fields", ()))
    if detail_request is None or not fields or not objects:
        return
    declared = {r.key for r in desired
                if fields & set(getattr(r.entry, "model_fields_set", ()))}
    wanted = [o for o in objects if every or o.key in declared]
    if not wanted:
        return

    async def complete(obj: LiveObject) -> None:
        response = await gateway.request(detail_request(organization, obj))
        obj.data = kind.with_detail(obj.data, response.body)  # type: ignore[attr-defined]

    try:
        async with asyncio.TaskGroup() as group:
            for obj in wanted:
                group.create_task(complete(obj))
    except BaseExceptionGroup as group:
        raise first_error(group) from None


async def read_kind(gateway: Gateway, kind: ResourceKind[Any], ctx: ReadContext, *,
                    into: list[LiveObject]) -> None:
    listings = kind.list_requests(ctx)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(read_listing(gateway, kind, listing, ctx.directory))
                     for listing in listings]
    except BaseExceptionGroup as group:
        raise first_error(group) from None
    into.extend(merged_by_id([obj for task in tasks for obj in task.result()]))


def merged_by_id(objects: list[LiveObject]) -> list[LiveObject]:
    """One object per (id, key, project): overlapping listings (a release under each of its
    statuses or projects) name the same object more than once. Only two different ids with
    one key are ambiguous. The same id under two keys stays two objects (one external
    ticket linked to two issues)."""
    unique: dict[tuple[str, str, str | None], LiveObject] = {}
    for obj in objects:
        unique.setdefault((obj.id, obj.key, obj.project), obj)
    return list(unique.values())


async def read_listing(gateway: Gateway, kind: ResourceKind[Any], listing: ListRequest,
                       directory: Directory) -> list[LiveObject]:
    try:
        return await _read_listing(gateway, kind, listing, directory)
    except Gone as error:
        if kind.retired_hint:  # retired, not "no objects": re-creating would fail too
            raise SentryError(f"{kind.name}: {error}. {kind.retired_hint}",
                              code=error.code) from None
        raise
    except NotFound:
        # A parent that does not exist (an issue named in a link manifest) holds no objects;
        # the reference check reports the missing parent with its file:line.
        if listing.missing_ok:
            if listing.parent is not None:
                directory.missing_issues.add(listing.parent)
            return []
        raise


async def _read_listing(gateway: Gateway, kind: ResourceKind[Any], listing: ListRequest,
                        directory: Directory) -> list[LiveObject]:
    """Every object of one listing, once per id: offset pagination while objects are created
    shifts rows, so a row can come twice; the later copy is the fresher one. A page that adds
    no new id ends the listing (a server offering a next cursor forever)."""
    by_id: dict[str, LiveObject] = {}

    def add(page: ApiResponse) -> int:
        fresh = kind.learn(page.body, listing, directory)
        for item in kind.items(page.body, listing):
            obj = kind.to_live_object(item, listing, directory=directory)
            fresh += obj.id not in by_id
            by_id[obj.id] = obj
        return fresh

    if not listing.paged:
        add(await gateway.request(listing.request))
        return list(by_id.values())
    pages = gateway.pages(listing.request)
    try:
        async for page in pages:
            if not add(page) and next_cursor(page.headers.get("link")) is not None:
                log.warning("%s: a page added no new object; stopping pagination there",
                            listing.request.route)
                break
    finally:
        await pages.aclose()
    return list(by_id.values())


def first_error(group: BaseExceptionGroup) -> BaseException:
    """The error to report from a task group: the first leaf, a DexterError if any."""
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    return next((e for e in leaves if isinstance(e, DexterError)), leaves[0])


def project_scope(directory: Directory, projects: list[str] | None) -> list[str]:
    """Project slugs to read: the ones asked for that exist (None: every project)."""
    if projects is None:
        return sorted(directory.projects)
    missing = sorted(set(projects) - set(directory.projects))
    if missing:  # the planner's reference checks name them to the user
        log.info("not reading projects missing in Sentry: %s", ", ".join(missing))
    return sorted(p for p in set(projects) if p in directory.projects)


def learn_slack_channels(live: LiveState) -> None:
    """(Slack integration id, "#name") -> channel id, from the Slack actions of live objects
    (each kind's `slack_channels` hook says where its objects keep them)."""
    found = live.directory.slack_channels
    for name, objects in live.objects.items():
        kind = get_kind(name)
        for obj in objects:
            for channel in kind.slack_channels(obj.data):
                found[(channel.integration_id, channel.channel)] = channel.channel_id
