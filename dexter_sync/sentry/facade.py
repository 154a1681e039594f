"""SentryFacade: what the rest of dexter knows about Sentry, as a handful of calls.

Composite, deduplicated reads of live state for every kind at once (`read_state`), the
directory of names and ids, one `send` per write (POST never retried blindly), the natural
key look-up that follows a failed create (`find_live`), polling of Sentry's 202 rule tasks,
and the composite issue view. Everything goes through the gateway.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pydantic import BaseModel

from ..core.directory import Directory
from ..core.requests import ApiRequest, ApiResponse, path_segment
from ..core.state import DesiredResource, DesiredState, LiveObject, LiveState
from ..kinds.base import ReadContext
from ..kinds.registry import get_kind
from . import issues, reading
from .errors import SentryError
from .gateway import Gateway

log = logging.getLogger(__name__)

TASK_TIMEOUT = 60.0
"""Seconds to wait for a 202 rule task before reporting it as still pending."""


class SentryFacade:
    def __init__(self, gateway: Gateway, organization: str) -> None:
        self.gateway = gateway
        self.organization = organization

    @property
    def base_url(self) -> str:
        """The Sentry this facade talks to (the embedded one's never-resolved URL included)."""
        return self.gateway.client.base_url

    # ---- reads ---------------------------------------------------------------------------

    async def read_directory(self, *, fresh: bool = False) -> Directory:
        """Names <-> ids, cached for a few seconds (`GatewaySettings.cache_ttl`): a plan that
        reads the directory and then the state pays for it once. Any write through `send`
        drops the cache; `fresh` forces a new read."""
        key = ("directory", self.organization)
        if fresh:
            self.gateway.cache.get(key)  # counts as a miss; the put below replaces it
            directory = await reading.read_directory(self.gateway, self.organization)
            self.gateway.cache.put(key, directory)
            return directory
        cached: Directory = await self.gateway.cache.get_or_load(
            key, lambda: reading.read_directory(self.gateway, self.organization))
        return cached

    async def read_state(self, kinds: list[str], *, projects: list[str] | None = None,
                         desired: DesiredState | None = None,
                         all_details: bool = False) -> LiveState:
        """Live objects of every requested kind, read concurrently through list endpoints.

        `projects` limits project-scoped kinds to those slugs (None: every project);
        `all_details` also reads every object's detail-only fields (export).
        """
        directory = await self.read_directory()
        return await reading.read_state(self.gateway, directory, kinds, projects=projects,
                                        desired=desired, all_details=all_details)

    async def find_live(self, kind: str, key: str, *, project: str | None = None,
                        parent: str | None = None,
                        entry: BaseModel | None = None) -> LiveObject | None:
        """Look a live object up by natural key, by listing (used after a failed create).

        `parent` scopes child kinds (a deploy's release); `entry`, the desired manifest
        entry when the caller has it, serves kinds that list per declared entry
        (external issue links list the declared issue's links).
        """
        resource_kind = get_kind(kind)
        directory = await self.read_directory()
        projects = [project] if project else None
        live = LiveState(directory=directory)
        if parent is not None and resource_kind.depends_on:
            live = await reading.read_state(self.gateway, directory,
                                            list(resource_kind.depends_on), projects=projects)
        desired = [DesiredResource(kind=kind, key=key, entry=entry or _KeyOnly(),
                                   parent_key=parent)]
        ctx = ReadContext(organization=self.organization, directory=directory,
                          projects=reading.project_scope(directory, projects),
                          desired=desired, live=live)
        found: list[LiveObject] = []
        await reading.read_kind(self.gateway, resource_kind, ctx, into=found)
        matches = [o for o in found if o.key == key and (project is None or o.project in
                                                          (None, project))]
        if len(matches) > 1:
            log.warning("%s/%s: %d live objects share this key; using the first",
                        kind, key, len(matches))
        return matches[0] if matches else None

    async def issue_context(self, issue: str | int) -> dict[str, Any]:
        """The issue, its latest events, stats, tags and participants (fetched in parallel)."""
        context: dict[str, Any] = await self.gateway.cache.get_or_load(
            ("issue", self.organization, str(issue)),
            lambda: issues.issue_context(self.gateway, self.organization, issue))
        return context

    # ---- writes --------------------------------------------------------------------------

    async def send(self, request: ApiRequest) -> ApiResponse:
        """One write (or read) through the gateway; a POST is never retried blindly."""
        return await self.gateway.request(request)

    async def poll_task(self, project: str, uuid: str, *, kind: str,
                        timeout: float = TASK_TIMEOUT) -> dict[str, Any]:
        """Follow a 202 `{"uuid"}` rule task until it succeeds: `{"status", "rule"}`, the rule
        read from where the kind's endpoint puts it (`task_rule_field`).

        Raises SentryError when the task fails (with Sentry's error text) or stays pending
        past `timeout`.
        """
        segment, field = get_kind(kind).task_segment, get_kind(kind).task_rule_field
        if segment is None:
            raise SentryError(f"Sentry answered a write of {kind} with a task ({uuid}), "
                              "but that kind has no task endpoint", code="task-failed")
        path = (f"projects/{path_segment(self.organization)}/{path_segment(project)}/"
                f"{segment}/{path_segment(uuid)}/")
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            body = (await self.gateway.request(ApiRequest("GET", path))).body or {}
            status = body.get("status") if isinstance(body, dict) else None
            if status == "success":
                return {"status": status, "rule": body.get(field)}
            if status == "failed":
                raise SentryError(f"Sentry's {segment} {uuid} for {kind} in {project} failed: "
                                  f"{body.get('error') or 'no reason given'}", code="task-failed")
            if time.monotonic() + delay > deadline:
                raise SentryError(f"Sentry's {segment} {uuid} for {kind} in {project} is still "
                                  f"pending after {timeout:.0f}s", code="task-pending")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    # ---- run summary ---------------------------------------------------------------------

    def metrics_summary(self) -> str:
        return self.gateway.summary()

    async def aclose(self) -> None:
        await self.gateway.aclose()


class _KeyOnly(BaseModel):
    """Stands for a desired entry known only by its key (kinds read `parent_key`)."""

