"""One HTTP call to Sentry: auth, keep-alive, JSON, error mapping (no retries, no limits).

The gateway wraps every call in its controls; nothing here sleeps or loops except the
transport itself. Each answer is bounded and checked by `answers` (deadline, size, shape). Library errors are wrapped at this edge (httpx -> SentryConnectionError),
like httpx's own `map_httpcore_exceptions`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from typing import Any

import httpx

from ..core.requests import ApiResponse
from .answers import AnswerLimits, parse_error, parse_success, read_body
from .errors import SentryConnectionError, error_for, trim
from .redaction import register_secret

log = logging.getLogger(__name__)

API_PREFIX = "/api/0/"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request was written: even a POST may be sent again after these."""


def connection_failure(exc: httpx.TransportError, base_url: str, method: str,
                       path: str) -> str:
    """What went wrong, in plain words, and what to check."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return f"cannot connect to Sentry at {base_url} ({_connect_reason(exc)}); check SENTRY_URL"
    if isinstance(exc, httpx.TimeoutException):
        what = "did not answer in time"
    elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        what = "closed the connection without an answer"
    else:
        what = f"failed ({type(exc).__name__}: {trim(str(exc), 200) or 'no detail'})"
    return (f"Sentry at {base_url} {what} to {method} {path}; check SENTRY_URL and the "
            "network between here and Sentry")


def _connect_reason(exc: BaseException) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return "no connection within the timeout"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {trim(str(cause), 120)}"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "network unreachable"
        cause = cause.__cause__ or cause.__context__
    return trim(str(exc), 200) or "connection failed"


def _http2_available() -> bool:
    try:
        import h2  # noqa: F401  (optional: HTTP/2 when installed and offered by the server)
    except ImportError:
        return False
    return True


class SentryClient:
    """An httpx.AsyncClient bound to one Sentry base URL and token.

    `transport` plugs in the embedded emulator (httpx.ASGITransport); otherwise httpx's
    pooled transport keeps connections alive and speaks HTTP/2 when `h2` is importable.
    """

    def __init__(self, *, base_url: str, token: str,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 30.0, max_connections: int = 50,
                 limits: AnswerLimits | None = None) -> None:
        register_secret(token)
        self.limits = limits or AnswerLimits.from_env()
        self.base_url = base_url.rstrip("/")
        self.host = httpx.URL(self.base_url).host or "sentry"
        self._http = httpx.AsyncClient(
            base_url=self.base_url + API_PREFIX,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                     "User-Agent": "dexter-sync"},
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections,
                                keepalive_expiry=30.0),
            http2=transport is None and _http2_available(),
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # never the headers: they hold the token
        return f"SentryClient({self.base_url!r})"

    async def send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   json: Any = None) -> ApiResponse:
        """Perform one request; return the response or raise a SentryError subclass.

        The whole exchange, last byte included, must finish within `limits.deadline`
        (httpx's timeouts are per read: a server trickling a byte every few seconds would
        never trip them)."""
        shown = API_PREFIX + path.lstrip("/")
        try:
            async with asyncio.timeout(self.limits.deadline):
                return await self._exchange(method, path, params, json, shown)
        except TimeoutError:
            raise SentryConnectionError(
                f"Sentry at {self.base_url} did not finish answering {method} {shown} within "
                f"{self.limits.deadline:g}s (the overall request deadline, "
                "DEXTER_REQUEST_DEADLINE); check SENTRY_URL and the network between here and "
                "Sentry", method=method, path=shown, sent=True) from None

    async def _exchange(self, method: str, path: str, params: dict[str, Any] | None,
                        json: Any, shown: str) -> ApiResponse:
        where = f"{method} {self.base_url}{shown}"
        try:
            async with self._http.stream(
                    method, path.lstrip("/"), params=_params(params),
                    json=json if json is not None or method in ("POST", "PUT") else None
            ) as response:
                content = await read_body(response, limit=self.limits.max_bytes, where=where)
        except httpx.TransportError as exc:
            raise SentryConnectionError(
                connection_failure(exc, self.base_url, method, shown),
                method=method, path=shown, sent=not isinstance(exc, _NOT_SENT)) from exc
        headers = {k.lower(): v for k, v in response.headers.items()}
        if response.status_code >= 400:
            body = parse_error(content)
            text = content[:4096].decode("utf-8", "replace") if body is None else ""
            raise error_for(status=response.status_code, method=method, path=shown,
                            body=body, text=text, headers=headers)
        body = parse_success(response, content, where)
        return ApiResponse(status=response.status_code, body=body, headers=headers)

    async def aclose(self) -> None:
        await self._http.aclose()


def _params(params: dict[str, Any] | None) -> httpx.QueryParams | None:
    """Query parameters; list values repeat the key (`project=1&project=2`), None is dropped."""
    if not params:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out += [(key, _text(v)) for v in values if v is not None]
    return httpx.QueryParams(out)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
