"""Which failures a retry can fix, and how long to wait between attempts (tenacity).

Retried: answers 5xx and requests that got no answer, for GET/PUT/DELETE (idempotent), and
429 for every method (Sentry rejects a rate-limited request before running it). A POST is
never retried blindly: after a 5xx or a lost connection it may have been applied, so the
failure goes back to the caller, which looks the object up before trying again. The one
exception is a connection that failed before the request was written.
4xx other than 429 fail at once; an open breaker fails at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from .errors import CircuitOpenError, RateLimited, SentryConnectionError, ServerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    """Attempts in all, the first included."""
    initial: float = 0.1
    maximum: float = 5.0
    jitter: float = 0.2


def is_retryable(method: str, error: BaseException) -> bool:
    if isinstance(error, CircuitOpenError):
        return False
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, SentryConnectionError):
        return method != "POST" or not error.sent
    if isinstance(error, ServerError):
        return method != "POST"
    return False


def backoff(policy: RetryPolicy, attempt: int) -> float:
    """Exponential backoff with jitter: initial * 2^(attempt-1), capped, plus up to `jitter`."""
    base = min(policy.maximum, policy.initial * 2 ** max(0, attempt - 1))
    return cast("float", base + random.uniform(0, policy.jitter))


def retrying(policy: RetryPolicy, *, method: str, route: str,
             on_retry: Callable[[BaseException], None] | None = None) -> AsyncRetrying:
    """A tenacity controller for one request: `async for attempt in retrying(...)`."""
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        # The rate limiter already holds the endpoint until the window resets.
        return 0.0 if isinstance(error, RateLimited) else backoff(policy, state.attempt_number)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if error is not None and on_retry is not None:
            on_retry(error)
        log.info("%s: %s; attempt #%d/%d", route, error, state.attempt_number + 1,
                 policy.attempts)

    return AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait,
        retry=retry_if_exception(lambda e: is_retryable(method, e)),
        before_sleep=before_sleep,
        reraise=True,
    )
