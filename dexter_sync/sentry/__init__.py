"""Everything that talks to Sentry over HTTP: the only package that imports httpx and tenacity.

Three layers, each using only the ones below it:
  client   (`client.py`, `errors.py`, `redaction.py`, `links.py`, `routes.py`): one HTTP call,
           Bearer auth, `Link` cursors, error mapping, token redaction.
  gateway  (`gateway.py` over `ratelimit.py`, `breaker.py`, `retrying.py`, `singleflight.py`,
           `cache.py`, `metrics.py`): outbound control (rate limits, concurrency, retries,
           single-flight, circuit breaker, metrics).
  facade   (`facade.py`, `reading.py`, `channels.py`, `issues.py`, `connect.py`): composite
           reads of live state for every kind at once (names resolved, Slack channel ids
           included), writes, task polling; a target is a URL or an in-process transport
           the caller supplies (the CLI's embedded emulator).
Nothing outside this package sends a request or sees the token; the kinds build the
requests (`ApiRequest`: method, path, body), this package sends them.
"""

from .connect import open_facade
from .errors import (
    BadRequest,
    CircuitOpenError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    RateLimited,
    SentryConnectionError,
    SentryError,
    SentryHTTPError,
    ServerError,
    Unauthorized,
)
from .facade import SentryFacade
from .gateway import GatewaySettings
from .retrying import RetryPolicy

__all__ = [
    "BadRequest",
    "CircuitOpenError",
    "Conflict",
    "Forbidden",
    "GatewaySettings",
    "Gone",
    "NotFound",
    "RateLimited",
    "RetryPolicy",
    "SentryConnectionError",
    "SentryError",
    "SentryFacade",
    "SentryHTTPError",
    "ServerError",
    "Unauthorized",
    "open_facade",
]
