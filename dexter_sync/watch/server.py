"""The daemon's HTTP face (starlette): every route in `ROUTES`, every piece of state in the
`ServerContext` at `app.state.watch`, so a new page (a status page at `/`) is one handler
and one line.

    GET  /events           Server-Sent Events; ?types=drift.*,issue.new; Last-Event-ID resume
    GET  /ws               WebSocket, the same messages (JSON text frames)
    GET  /healthz          200 while the loop runs; 503 with the reason when Sentry is away
    GET  /metrics          Prometheus text
    POST /webhooks/sentry  Sentry integration-platform webhooks (signed), turned into events

/events and /ws need `Authorization: Bearer <token>` when the daemon has a stream token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..core.diagnostics import DexterError
from . import metrics, webhooks
from .emitter import Emitter
from .events import parse_types
from .hub import EventHub
from .metrics import Counters
from .release_health import ProjectHealth
from .state import WatchState

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
MAX_WEBHOOK_BYTES = 1024 * 1024
SEEN_DELIVERIES = 10_000


@dataclass
class ServerContext:
    state: WatchState
    hub: EventHub
    emitter: Emitter
    counters: Counters
    registry: CollectorRegistry
    webhook_secret: str | None = None
    stream_token: str | None = None
    keepalive: float = KEEPALIVE_SECONDS
    release_health: Callable[[], Awaitable[list[ProjectHealth]]] | None = None
    """Per-project release health for the status page (read on demand, cached)."""
    deliveries: OrderedDict[str, None] = field(default_factory=OrderedDict)
    """Request-IDs of accepted webhook deliveries: Sentry retries, we emit once."""

    def first_delivery(self, request_id: str | None) -> bool:
        if not request_id:
            return True
        if request_id in self.deliveries:
            return False
        self.deliveries[request_id] = None
        while len(self.deliveries) > SEEN_DELIVERIES:
            self.deliveries.popitem(last=False)
        return True


def context_of(conn: HTTPConnection) -> ServerContext:
    context: ServerContext = conn.app.state.watch
    return context


SESSION_COOKIE = "dexter_watch_token"
"""Set by the status page (`GET /?token=...`): browsers cannot send headers on EventSource."""


def token_matches(token: str | None, given: str | None) -> bool:
    """Constant-time comparison; no token configured means no protection."""
    if not token:
        return True
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def authorized(conn: HTTPConnection) -> bool:
    """A bearer token, or the status page's session cookie, when a stream token is set."""
    token = context_of(conn).stream_token
    if not token:
        return True
    scheme, _, given = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(token, given.strip()):
        return True
    cookie = conn.cookies.get(SESSION_COOKIE)
    return cookie is not None and token_matches(token, cookie)


def _subscription(conn: HTTPConnection) -> tuple[frozenset[str] | None, int | None]:
    """The `?types=` filter and the Last-Event-ID (header, or `?last_event_id=`)."""
    types = parse_types(conn.query_params.get("types"))
    raw = conn.headers.get("last-event-id") or conn.query_params.get("last_event_id")
    after = int(raw) if raw and raw.strip().isdigit() else None
    return types, after


def _bad_request(error: DexterError) -> JSONResponse:
    return JSONResponse({"error": str(error), "code": error.code}, 400)


async def events(request: Request) -> Response:
    if not authorized(request):
        return JSONResponse({"error": "a bearer token is required"}, 401,
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        types, after = _subscription(request)
    except DexterError as error:
        return _bad_request(error)
    context = context_of(request)
    subscriber = context.hub.subscribe(types, after=after)

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield b": dexter watch\nretry: 2000\n\n"
            while not subscriber.closed:
                message = await subscriber.next(timeout=context.keepalive)
                if message is not None:
                    yield b"".join([message.sse, *(m.sse for m in subscriber.drain())])
                elif not subscriber.closed:
                    yield b": keep-alive\n\n"
        finally:
            context.hub.unsubscribe(subscriber)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def websocket(ws: WebSocket) -> None:
    if not authorized(ws):
        await ws.close(code=1008, reason="a bearer token is required")
        return
    try:
        types, after = _subscription(ws)
    except DexterError as error:
        await ws.close(code=1008, reason=str(error)[:120])
        return
    await ws.accept()
    context = context_of(ws)
    subscriber = context.hub.subscribe(types, after=after)

    async def until_client_leaves() -> None:
        try:
            while True:
                await ws.receive_text()  # clients need not talk; this notices them leave
        except (WebSocketDisconnect, RuntimeError):
            subscriber.close()

    listener = asyncio.ensure_future(until_client_leaves())
    try:
        while not subscriber.closed:
            message = await subscriber.next(timeout=context.keepalive)
            if message is not None:
                await ws.send_text(message.json)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        listener.cancel()
        context.hub.unsubscribe(subscriber)
        if not subscriber.closed or ws.client_state.name == "CONNECTED":
            try:
                await ws.close()
            except (RuntimeError, OSError):
                pass


async def healthz(request: Request) -> Response:
    healthy, reason = context_of(request).state.health()
    return JSONResponse({"status": "ok" if healthy else "unavailable", "reason": reason},
                        200 if healthy else 503)


async def prometheus(request: Request) -> Response:
    return Response(metrics.render(context_of(request).registry),
                    media_type=metrics.CONTENT_TYPE)


async def _limited_body(request: Request, limit: int) -> bytes | None:
    """The raw body (signatures are over the exact bytes), or None past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def sentry_webhook(request: Request) -> Response:
    context = context_of(request)

    def count(result: str) -> None:
        context.counters.count(context.counters.webhooks, result)

    body = await _limited_body(request, MAX_WEBHOOK_BYTES)
    if body is None:
        count("too-large")
        return JSONResponse({"error": "body too large"}, 413)
    if not webhooks.verify(context.webhook_secret,
                           body, request.headers.get(webhooks.SIGNATURE_HEADER)):
        count("bad-signature")
        return JSONResponse({"error": "missing or invalid Sentry-Hook-Signature"}, 401)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    resource = request.headers.get(webhooks.RESOURCE_HEADER, "")
    found = webhooks.to_events(resource, payload, context.state.organization)
    if found is None:
        count("bad-payload")
        return JSONResponse({"error": "not a Sentry webhook envelope"}, 400)
    if not context.first_delivery(request.headers.get("request-id")):
        count("duplicate")
        return JSONResponse({"accepted": 0, "duplicate": True})
    for event in found:
        context.emitter.emit(event)
    count("accepted" if found else "ignored")
    return JSONResponse({"accepted": len(found)})


ROUTES: list[BaseRoute] = [
    Route("/events", events, methods=["GET"]),
    WebSocketRoute("/ws", websocket),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", prometheus, methods=["GET"]),
    Route("/webhooks/sentry", sentry_webhook, methods=["POST"]),
]


def create_app(context: ServerContext, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The daemon's app; `extra_routes` (a status page...) come first."""
    app = Starlette(routes=[*extra_routes, *ROUTES])
    app.state.watch = context
    return app
