"""The status page at `GET /`: drift, the live event feed and release health at a glance.

Server-rendered (jinja2 with autoescape: every value from Sentry or a manifest is text,
never markup) plus a small script that follows the daemon's own `/events` stream, so new
drift and events appear without a reload. No build step, nothing from a CDN.

    GET /              the page (HTML)
    GET /status.json   the last cycle and Sentry's reachability, for the page to refresh

Protected like /events: with a stream token, a request needs `Authorization: Bearer` or the
session cookie that `GET /?token=...` sets (browsers cannot add headers to EventSource).
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.diagnostics import DexterError
from .events import EVENT_TYPES
from .release_health import ProjectHealth
from .server import SESSION_COOKIE, authorized, context_of, token_matches

log = logging.getLogger(__name__)

ABSENT = {"create": "declared, missing in Sentry", "delete": "in Sentry, not declared",
          "update": ""}
"""What the Fields column says for a change without a field diff."""

FEED_SIZE = 50
"""Events rendered with the page (newest first); the script adds the ones that follow."""

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("dexter_sync.watch", "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _when(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def cycle_summary(request: Request) -> dict[str, Any]:
    state = context_of(request).state
    return {"organization": state.organization, "cycles": state.cycles,
            "last_cycle": _when(state.last_cycle_at),
            "last_cycle_seconds": round(state.last_cycle_seconds, 2),
            "reachable": not state.unavailable, "reason": state.unavailable_reason,
            "drift": state.drift_count}


def _summary_of(event: dict[str, Any]) -> str:
    """One line for the feed: what the event is about (title, version, reason...)."""
    data = event.get("data") or {}
    for key in ("title", "version", "reason", "action", "status"):
        value = data.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def feed_item(event: dict[str, Any], event_id: int) -> dict[str, Any]:
    address = "/".join(str(p) for p in (event.get("kind"), event.get("key")) if p)
    return {"id": event_id, "type": event.get("type", ""), "time": event.get("time", ""),
            "address": address, "summary": _summary_of(event)}


def recent_feed(request: Request) -> list[dict[str, Any]]:
    history = list(context_of(request).hub.history)[-FEED_SIZE:]
    return [feed_item(json.loads(m.json), m.id) for m in reversed(history)]


async def _release_health(request: Request) -> tuple[list[ProjectHealth], str | None]:
    reader = context_of(request).release_health
    if reader is None:
        return [], "release health is not read by this daemon"
    try:
        return await reader(), None
    except DexterError as error:  # Sentry away: the page still shows everything else
        log.info("release health unavailable: %s", error)
        return [], f"release health unavailable: {error}"


def _denied() -> Response:
    return JSONResponse({"error": "a bearer token is required (or open /?token=...)"}, 401,
                        headers={"WWW-Authenticate": "Bearer"})


async def page(request: Request) -> Response:
    given = request.query_params.get("token")
    if given is not None:
        if not token_matches(context_of(request).stream_token, given):
            return _denied()
        # a cookie for the page and its EventSource; the token leaves the address bar
        response = RedirectResponse("/", 303)
        response.set_cookie(SESSION_COOKIE, given, httponly=True, samesite="strict")
        return response
    if not authorized(request):
        return _denied()
    health, health_note = await _release_health(request)
    nonce = secrets.token_urlsafe(16)
    html = _TEMPLATES.get_template("status.html.j2").render(
        nonce=nonce,
        cycle=cycle_summary(request), drift=sorted(context_of(request).state.drift.values(),
                                                  key=lambda c: (c["kind"], c["key"])),
        feed=recent_feed(request), event_types=EVENT_TYPES, health=health, absent=ABSENT,
        health_note=health_note)
    return HTMLResponse(html, headers={"Cache-Control": "no-store",
                                       "Content-Security-Policy": CSP.format(nonce=nonce)})


async def status_json(request: Request) -> Response:
    if not authorized(request):
        return _denied()
    return JSONResponse(cycle_summary(request), headers={"Cache-Control": "no-store"})


CSP = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
       "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")
"""The page runs only its own script (by nonce: markup that slipped into a value could not
run) and talks only to this daemon."""

ROUTES: list[BaseRoute] = [
    Route("/", page, methods=["GET"]),
    Route("/status.json", status_json, methods=["GET"]),
]
