"""One HTTP call to Sentry: auth, keep-alive, JSON, error mapping (no retries, no limits).

The gateway wraps every call in its controls; nothing here sleeps or loops except the
transport itself. Library errors are wrapped at this edge (httpx -> SentryConnectionError),
like httpx's own `map_httpcore_exceptions`.
"""

from __future__ import annotations

import json as jsonlib
import logging
from typing import Any

import httpx

from ..core.requests import ApiResponse
from .errors import SentryConnectionError, error_for, trim
from .redaction import register_secret

log = logging.getLogger(__name__)

API_PREFIX = "/api/0/"
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request was written: even a POST may be sent again after these."""


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
                 timeout: float = 30.0, max_connections: int = 50) -> None:
        register_secret(token)
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
        """Perform one request; return the response or raise a SentryError subclass."""
        shown = API_PREFIX + path.lstrip("/")
        try:
            response = await self._http.request(
                method, path.lstrip("/"), params=_params(params),
                json=json if json is not None or method in ("POST", "PUT") else None)
        except httpx.TransportError as exc:
            sent = not isinstance(exc, _NOT_SENT)
            raise SentryConnectionError(
                f"no answer from Sentry at {self.host} to {method} {shown}: "
                f"{type(exc).__name__}: {trim(str(exc), 200) or 'connection failed'}",
                method=method, path=shown, sent=sent) from exc
        headers = {k.lower(): v for k, v in response.headers.items()}
        body = _json_body(response)
        if response.status_code >= 400:
            raise error_for(status=response.status_code, method=method, path=shown,
                            body=body, text=response.text if body is None else "",
                            headers=headers)
        return ApiResponse(status=response.status_code, body=body, headers=headers)

    async def aclose(self) -> None:
        await self._http.aclose()


QueryPairs = list[tuple[str, str | int | float | bool | None]]
"""httpx's query-parameter pairs (it takes a list of any primitive values)."""


def _params(params: dict[str, Any] | None) -> QueryPairs | None:
    """Query parameters; list values repeat the key (`project=1&project=2`), None is dropped."""
    if not params:
        return None
    out: QueryPairs = []
    for key, value in params.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out += [(key, _text(v)) for v in values if v is not None]
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _json_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return jsonlib.loads(response.content)
    except ValueError:
        return None
