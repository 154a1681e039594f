"""Slack channel names -> ids at plan time, from Sentry's channel listing.

A rule whose Slack action names a channel Sentry must look up answers `202 {"uuid"}` and is
created later by a background task (REFERENCE.md §1.2, §2.1). Resolving every channel the
manifests name before apply means payloads carry the channel id and Sentry answers at once,
so apply never waits on (or double-sends around) the asynchronous lookup. The listing
(`organizations/{org}/integrations/{id}/channels/`) is newer than the legacy alert
endpoints: where a Sentry does not serve it, channels learned from live rules still apply.
"""

from __future__ import annotations

import logging
from typing import Any

from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from ..core.state import DesiredState
from ..kinds.registry import get_kind
from .errors import SentryHTTPError
from .gateway import Gateway

log = logging.getLogger(__name__)

MAX_PAGES = 100
"""A bound on one workspace's listing (200 channels a page)."""


def workspaces_named(desired: DesiredState, directory: Directory) -> list[str]:
    """Ids of the Slack integrations whose channels the manifests name."""
    ids: set[str] = set()
    for resource in desired.resources:
        kind = get_kind(resource.kind)
        if not isinstance(resource.entry, kind.entry_model):
            continue  # a stand-in entry (export reads children per live parent)
        for ref in kind.references(resource.entry):
            if ref.kind == "slack_channel":
                workspace = directory.integration(ref.scope or "", "slack")
                if workspace is not None:
                    ids.add(workspace.id)
    return sorted(ids)


async def read_slack_channels(gateway: Gateway, directory: Directory,
                              desired: DesiredState | None) -> None:
    """Fill `directory.slack_channels` and `slack_channel_listings` for named workspaces."""
    if desired is None:
        return
    for integration_id in workspaces_named(desired, directory):
        channels = await _list_channels(gateway, directory.organization, integration_id)
        if channels is None:
            continue
        for channel in channels:
            name, channel_id = channel.get("name"), channel.get("id")
            if name and channel_id:
                directory.slack_channels[(integration_id, "#" + str(name).lstrip("#"))] = \
                    str(channel_id)
        directory.slack_channel_listings.add(integration_id)


async def _list_channels(gateway: Gateway, organization: str,
                         integration_id: str) -> list[dict[str, Any]] | None:
    """Every channel of one workspace, or None when this Sentry has no listing for it."""
    path = (f"organizations/{path_segment(organization)}/integrations/"
            f"{path_segment(integration_id)}/channels/")
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        try:
            response = await gateway.request(ApiRequest("GET", path, params=params))
        except SentryHTTPError as error:
            if 400 <= error.status < 500:
                log.info("no Slack channel listing for integration %s (%s): channel ids "
                         "come from live rules only", integration_id, error.status)
                return None
            raise
        body = response.body if isinstance(response.body, dict) else {}
        found += [c for c in body.get("results") or [] if isinstance(c, dict)]
        cursor = body.get("nextCursor")
        if not cursor:
            return found
    log.warning("Slack channel listing of integration %s has more than %d pages; using "
                "the first ones", integration_id, MAX_PAGES)
    return None
