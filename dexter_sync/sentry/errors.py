"""The errors this package raises, and the mapping from an HTTP response to one of them.

    SentryError (DexterError)         anything that went wrong talking to Sentry
    ├── SentryHTTPError               Sentry answered with an error status; carries the status,
    │   │                             Sentry's own error text (field errors, `detail`, a bare
    │   │                             list), the request's method and path, a trimmed body
    │   ├── BadRequest        400     validation failed; `field_errors` holds Sentry's mapping
    │   ├── Unauthorized      401     token missing or invalid
    │   ├── Forbidden         403     token lacks a scope
    │   ├── NotFound          404     no such object (or org/project slug)
    │   ├── Conflict          409
    │   ├── Gone              410     the endpoint is retired (legacy alert endpoints), never
    │   │                             "the object is missing"
    │   ├── RateLimited       429     `retry_at` (epoch seconds) from Retry-After or the
    │   │                             X-Sentry-Rate-Limit-Reset header
    │   └── ServerError       5xx
    ├── RateLimitWaitTooLong          Sentry asks for a wait longer than the cap: not sent
    ├── SentryConnectionError         no HTTP answer: refused, dropped, timed out
    └── CircuitOpenError              the breaker for the host is open: failing fast

Texts are trimmed and pass through `redact`, so neither a blob nor the token reaches a log.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..core.diagnostics import DexterError
from .redaction import redact

MAX_TEXT = 500


class SentryError(DexterError):
    code = "sentry-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(redact(message), code=code)


class SentryHTTPError(SentryError):
    code = "sentry-http-error"
    hint: str | None = None
    """What to do about this status, appended to the message in parentheses."""

    def __init__(self, *, status: int, method: str, path: str, detail: str,
                 body: Any = None, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.detail = redact(detail)
        self.body = body
        self.headers = dict(headers or {})
        super().__init__(self._message())

    def _message(self) -> str:
        message = f"Sentry answered {self.status} to {self.method} {self.path}: {self.detail}"
        return f"{message} ({self.hint})" if self.hint else message


class BadRequest(SentryHTTPError):
    code = "sentry-bad-request"

    @property
    def field_errors(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class Unauthorized(SentryHTTPError):
    code = "sentry-unauthorized"
    hint = "check SENTRY_AUTH_TOKEN: it is missing, invalid or expired"


class Forbidden(SentryHTTPError):
    code = "sentry-forbidden"
    hint = "the token lacks a scope this call needs"


class NotFound(SentryHTTPError):
    code = "sentry-not-found"


class Conflict(SentryHTTPError):
    code = "sentry-conflict"


class Gone(SentryHTTPError):
    code = "sentry-endpoint-retired"

    def _message(self) -> str:
        return (f"Sentry has retired {self.method} {self.path} (410 Gone: {self.detail}); "
                "this organization uses the new alerting model (workflows and detectors)")


class RateLimited(SentryHTTPError):
    code = "sentry-rate-limited"

    @property
    def retry_at(self) -> float | None:
        """When to try again (epoch seconds): Retry-After if a proxy sent one, else the
        window reset Sentry announced."""
        return retry_at(self.headers)


class ServerError(SentryHTTPError):
    code = "sentry-server-error"


class RateLimitWaitTooLong(SentryError):
    """Sentry's rate limit asks for a wait longer than `--max-rate-limit-wait`: the request
    is not sent (a CI job should fail fast, not hang for an hour)."""

    code = "rate-limited"

    def __init__(self, endpoint: str, wait: float, cap: float) -> None:
        self.endpoint = endpoint
        self.wait = wait
        self.cap = cap
        super().__init__(
            f"Sentry's rate limit on {endpoint} asks for a wait of {wait:.0f}s, longer than "
            f"the {cap:g}s dexter waits at most (--max-rate-limit-wait or "
            "DEXTER_MAX_RATE_LIMIT_WAIT); nothing was sent, run again later")


class SentryConnectionError(SentryError):
    """No usable answer: the connection was refused, timed out or broke."""

    code = "connection-failed"

    def __init__(self, message: str, *, method: str = "", path: str = "",
                 sent: bool = True) -> None:
        self.method = method
        self.path = path
        self.sent = sent
        """False when the connection failed before the request was written (safe to retry)."""
        super().__init__(message)


class CircuitOpenError(SentryError):
    code = "circuit-open"

    def __init__(self, host: str, *, failures: int, retry_in: float,
                 last_failure: str | None = None,
                 last_error: SentryError | None = None) -> None:
        self.host = host
        self.retry_in = retry_in
        self.last_error = last_error
        if isinstance(last_error, SentryConnectionError):
            # Nothing answered: the breaker only stopped us retrying a dead address, so the
            # user hears what happened and what to check, not how the breaker works.
            super().__init__(str(last_error), code=last_error.code)
            return
        cause = f" (last: {last_failure})" if last_failure else ""
        super().__init__(
            f"Sentry at {host} is failing: {failures} consecutive failures{cause} opened the "
            f"circuit breaker; no request is sent for {retry_in:.1f}s more, then one probe "
            "(circuit breaker open)")


_BY_STATUS: dict[int, type[SentryHTTPError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    410: Gone, 429: RateLimited,
}


def error_for(*, status: int, method: str, path: str, body: Any, text: str,
              headers: Mapping[str, str]) -> SentryHTTPError:
    """The exception for an error response (`body` is the parsed JSON or None)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else SentryHTTPError)
    detail = error_text(body) if body is not None else trim(text) or "(empty body)"
    return cls(status=status, method=method, path=path, detail=detail, body=body,
               headers=headers)


def error_text(body: Any) -> str:
    """Sentry's error text from its error body: `{"detail": str|obj}`, a field-error mapping
    (possibly nested under list indexes), a bare list of messages, or a bare string."""
    if isinstance(body, str):
        return trim(body)
    if isinstance(body, list):
        return trim("; ".join(_flatten(body, "")))
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and len(body) == 1:
            return trim(detail)
        if isinstance(detail, dict) and len(body) == 1:
            message = detail.get("message") or detail.get("code") or detail
            return trim(str(message))
        return trim("; ".join(_flatten(body, "")))
    return trim(str(body))


def _flatten(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        out: list[str] = []
        for key, item in value.items():
            out += _flatten(item, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(value, list):
        if all(isinstance(v, (str, int, float)) for v in value):
            return [f"{path}: {v}" if path else str(v) for v in value]
        out = []
        for i, item in enumerate(value):
            if item not in ({}, [], None):
                out += _flatten(item, f"{path}[{i}]")
        return out
    return [f"{path}: {value}" if path else str(value)]


def trim(text: str, limit: int = MAX_TEXT) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def retry_at(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Epoch seconds at which a rate-limited request may be retried, or None if unknown."""
    lowered = {k.lower(): v for k, v in headers.items()}
    current = time.time() if now is None else now
    after = lowered.get("retry-after")
    if after:
        try:
            return current + max(0.0, float(after))
        except ValueError:
            pass  # an HTTP-date: rare from proxies in front of an API; fall back to Reset
    reset = lowered.get("x-sentry-rate-limit-reset")
    if reset:
        try:
            return float(reset)
        except ValueError:
            return None
    return None
