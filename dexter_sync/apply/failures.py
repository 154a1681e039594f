"""What a failed write means for the next step: the one place apply reads gateway errors.

- rejected:     Sentry answered 4xx (not 429): nothing was written, the text is Sentry's.
- ambiguous:    5xx, dropped connection, timeout: the write may or may not have landed.
- rate-limited: 429 that the gateway gave up on, or a rate-limit wait over the cap: nothing
                was written, safe to send again (a later run).
- breaker:      the circuit breaker is open: the request was never sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..sentry.errors import CircuitOpenError, RateLimitWaitTooLong, SentryHTTPError

Category = Literal["rejected", "ambiguous", "rate-limited", "breaker"]


@dataclass(frozen=True)
class WriteFailure:
    category: Category
    message: str
    status: int | None = None
    body: Any = None


def classify(error: BaseException) -> WriteFailure:
    """Map an exception raised by the facade's `send` to what apply may do next."""
    message = str(error) or type(error).__name__
    if isinstance(error, CircuitOpenError):
        return WriteFailure("breaker", message)
    if isinstance(error, RateLimitWaitTooLong):
        return WriteFailure("rate-limited", message)  # refused before sending
    status = error.status if isinstance(error, SentryHTTPError) else None
    body = error.body if isinstance(error, SentryHTTPError) else None
    if status is None:
        # Connection errors, timeouts, anything without an HTTP answer: the server may have
        # committed the write before the connection went away.
        return WriteFailure("ambiguous", message)
    if status == 429:
        return WriteFailure("rate-limited", message, status, body)
    if status >= 500:
        return WriteFailure("ambiguous", message, status, body)
    return WriteFailure("rejected", message, status, body)


def from_response(status: int, body: Any) -> WriteFailure:
    """The same mapping for a facade that returns error responses instead of raising."""
    text = body if isinstance(body, str) else json.dumps(body, sort_keys=True)
    message = f"HTTP {status}: {text}"
    if status == 429:
        return WriteFailure("rate-limited", message, status, body)
    if status >= 500:
        return WriteFailure("ambiguous", message, status, body)
    return WriteFailure("rejected", message, status, body)


class BreakerOpen(Exception):
    """Raised inside apply when the circuit breaker refuses a request.

    `sent` says whether an earlier request of the same change may have reached Sentry: such a
    change is reported failed (outcome unknown), one that never went out as not attempted.
    """

    def __init__(self, message: str, *, sent: bool, writes: int = 0) -> None:
        super().__init__(message)
        self.sent = sent
        self.writes = writes
        """Write requests this change sent before the refusal (its report's `attempts`)."""
