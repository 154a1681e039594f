"""The wrapper every emulator route goes through: auth, rate limit, faults, holds, counters.

Route modules declare plain `async def handler(request) -> Response` functions in a
`ROUTES` list of `(path template, methods, handler)`; `build_routes` wraps each one with
what Sentry's middleware stack does around a view.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .api import NO_PERMISSION, ApiError, error_response, json_response
from .faults import ERROR_BODIES, ConnectionDropped

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
RouteSpec = tuple[str, list[str], Handler]


class DroppedResponse(Response):
    """Starts a response and hangs up before its body: the client sees a dropped connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"1024")]})
        raise ConnectionDropped()


def check_token(request: Request) -> None:
    """Bearer auth as Sentry answers it (REFERENCE.md §3.1, §3.4)."""
    config = request.app.state.config
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise ApiError(401, {"detail": "Authentication credentials were not provided."})
    token = token.strip()
    if token in config.read_only_tokens:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            raise ApiError(403, NO_PERMISSION)
        return
    if config.token is not None and token != config.token:
        raise ApiError(401, {"detail": "Invalid token"})


def wrap(template: str, handler: Handler, *, kind: str) -> Handler:
    """`kind` is "api" (token, limits, faults), "ingest" (DSN auth by the handler, limits,
    faults) or "admin" (token only)."""

    async def endpoint(request: Request) -> Response:
        state = request.app.state
        key = f"{request.method} {template}"
        if kind == "admin":
            try:
                check_token(request)
                response = await handler(request)
            except ApiError as error:
                response = error_response(error)
            return response
        decision = state.limiter.acquire(key)
        status = 429
        try:
            if not decision.allowed:
                response = json_response(decision.body, 429)
            else:
                response = await _serve(request, handler, kind)
            status = response.status_code
            response.headers.update(decision.headers)
            return response
        finally:
            if decision.allowed:
                state.limiter.release(key)
            state.counters.record(request.method, template, status)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


async def _serve(request: Request, handler: Handler, kind: str) -> Response:
    state = request.app.state
    plan = state.faults.plan(request.method, request.url.path)
    await state.faults.wait(plan)
    if plan.drop:
        return DroppedResponse()
    if plan.error_status:
        return json_response(ERROR_BODIES.get(plan.error_status, {"detail": "Error"}),
                             plan.error_status)
    holds = state.holds
    try:
        if kind == "api":
            check_token(request)
        if holds.settings is not None:
            await request.body()  # a held request was received whole, as a proxy buffers it
        await holds.wait(request.method, request.url.path, "before")
        if kind == "api":  # Sentry's workers finished what is due, polled or not
            state.tasks.finish_due(state.config.quirks)
        response = await handler(request)
    except ApiError as error:
        return error_response(error)
    except ConnectionDropped:
        raise
    except Exception:  # a bug in the emulator: answer like Sentry's 500, keep serving
        log.exception("emulator handler failed: %s %s", request.method, request.url.path)
        return json_response(ERROR_BODIES[500], 500)
    await holds.wait(request.method, request.url.path, "after")
    if plan.lose_response and response.status_code < 400:
        # the write is committed; the client never learns it
        if plan.lose_response == "drop":
            return DroppedResponse()
        return json_response(ERROR_BODIES[502], 502)
    return response


def build_routes(specs: Iterable[RouteSpec], *, prefix: str, kind: str) -> list[Route]:
    """Starlette routes; counters and limits key on the template without converters."""
    return [Route(prefix + path, wrap(re.sub(r":\w+}", "}", prefix + path), handler, kind=kind),
                  methods=methods)
            for path, methods, handler in specs]
