"""The composite issue view behind `dexter inspect issue`: one issue and its surroundings,
fetched in parallel (issue, latest events, stats, tags, participants).

Only the issue itself must exist; a part the server does not serve (404) is reported as
missing instead of failing the whole view.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..core.requests import ApiRequest, path_segment
from .errors import NotFound, SentryHTTPError
from .gateway import Gateway

LATEST_EVENTS = 5
STATS_PERIOD = "24h"


async def issue_context(gateway: Gateway, organization: str, issue: str | int) -> dict[str, Any]:
    """`{"issue", "latest_events", "stats", "tags", "participants", "missing"}`."""
    base = f"organizations/{path_segment(organization)}/issues/{path_segment(issue)}/"

    async def get(path: str, **params: Any) -> Any:
        return (await gateway.request(ApiRequest("GET", base + path, params=params))).body

    async def optional(path: str, **params: Any) -> Any:
        try:
            return await get(path, **params)
        except (NotFound, SentryHTTPError) as error:
            if isinstance(error, NotFound) or error.status in (400, 405):
                return _MISSING
            raise

    detail, events, tags, participants = await asyncio.gather(
        get("", statsPeriod=STATS_PERIOD),
        optional("events/", per_page=LATEST_EVENTS, full=0),
        optional("tags/"),
        optional("participants/"),
    )
    missing = [name for name, value in (("latest_events", events), ("tags", tags),
                                        ("participants", participants)) if value is _MISSING]
    if participants is _MISSING and isinstance(detail, dict) and "participants" in detail:
        participants, missing = detail["participants"], [m for m in missing if m != "participants"]
    stats = detail.get("stats") if isinstance(detail, dict) else None
    return {
        "issue": detail,
        "latest_events": (events if isinstance(events, list) else [])[:LATEST_EVENTS],
        "stats": stats or {},
        "tags": tags if isinstance(tags, list) else [],
        "participants": participants if isinstance(participants, list) else [],
        "missing": missing,
    }


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
