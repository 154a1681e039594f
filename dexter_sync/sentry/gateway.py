"""Outbound control for every request to Sentry: one place that decides when and how often.

    request(GET)  -> single-flight -> retries -> [concurrency -> rate limiter -> breaker -> client]
    request(other)                 -> retries -> [same]

Every attempt passes the global concurrency limit (`--concurrency`), waits for its endpoint's
rate-limit budget, asks the host's circuit breaker, and is measured per route. `pages()`
follows `Link` cursors, one gateway request per page. Writes clear the read cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Hashable
from dataclasses import dataclass, field
from typing import cast

from ..core.requests import ApiRequest, ApiResponse
from .answers import require_list
from .breaker import CircuitBreaker
from .cache import TTLCache
from .client import SentryClient
from .errors import RateLimited, SentryError, SentryHTTPError
from .links import next_cursor
from .metrics import GatewayMetrics, summary_text
from .ratelimit import MAX_WAIT, RateLimiter
from .retrying import RetryPolicy, retrying
from .routes import endpoint_key
from .singleflight import SingleFlight

log = logging.getLogger(__name__)

PER_PAGE = 100
MAX_PAGES = 10_000


@dataclass(frozen=True)
class GatewaySettings:
    concurrency: int = 16
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_threshold: int = 10
    """Consecutive failures (5xx or no answer) that open the breaker."""
    breaker_cooldown: float = 10.0
    """Seconds the breaker stays open before letting one probe through."""
    cache_ttl: float = 5.0
    pace_by_headers: bool = True
    """Spread requests over the budget Sentry announces (off for the embedded emulator)."""
    max_rate_limit_wait: float = MAX_WAIT
    """The longest single rate-limit wait; a longer one fails with `rate-limited`."""


class Gateway:
    def __init__(self, client: SentryClient, settings: GatewaySettings | None = None, *,
                 notify: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.settings = settings or GatewaySettings()
        self.limiter = RateLimiter(pacing=self.settings.pace_by_headers,
                                   max_wait=self.settings.max_rate_limit_wait, announce=notify)
        self.breaker = CircuitBreaker(client.host,
                                      failure_threshold=self.settings.breaker_threshold,
                                      cooldown=self.settings.breaker_cooldown)
        self.metrics = GatewayMetrics(breaker_transitions=self.breaker.transitions)
        self.flights = SingleFlight()
        self.cache = TTLCache(ttl=self.settings.cache_ttl)
        self._slots = asyncio.Semaphore(max(1, self.settings.concurrency))
        self._slots_loop: asyncio.AbstractEventLoop | None = None

    async def request(self, request: ApiRequest) -> ApiResponse:
        """Send one request under every control; raise a SentryError when it fails for good."""
        if request.method == "GET":
            return cast("ApiResponse", await self.flights.do(_flight_key(request), lambda: self._retried(request)))
        try:
            return await self._retried(request)
        finally:
            self.cache.clear()  # even a failed write may have changed what reads would see

    async def pages(self, request: ApiRequest, *, per_page: int = PER_PAGE,
                    list_body: bool = True) -> AsyncGenerator[ApiResponse, None]:
        """Every page of a list endpoint, following `Link` cursors until `results="false"`.

        Each page must be a JSON array unless `list_body` is False (the events endpoint pages
        an object, which its caller checks)."""
        params = {"per_page": per_page, **request.params}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = await self.request(ApiRequest("GET", request.path, params=params))
            if list_body:  # a page that is not an array is an error, never "no objects"
                kind = response.headers.get("content-type") or "no content type"
                require_list(response.body, f"GET {self.client.base_url}/api/0/"
                                            f"{request.path} ({response.status}, {kind})")
            yield response
            cursor = next_cursor(response.headers.get("link"))
            if cursor is None:
                return
            if cursor in seen:
                raise SentryError(f"Sentry repeated the cursor {cursor!r} for {request.route}; "
                                  "stopping pagination", code="sentry-pagination")
            seen.add(cursor)
            params = {**params, "cursor": cursor}
        raise SentryError(f"{request.route} has more than {MAX_PAGES} pages",
                          code="sentry-pagination")

    async def _retried(self, request: ApiRequest) -> ApiResponse:
        endpoint = endpoint_key(request.method, request.path)
        route = self.metrics.route(endpoint)

        def count_retry(error: BaseException) -> None:
            route.retries += 1

        async for attempt in retrying(self.settings.retry, method=request.method,
                                      route=endpoint, on_retry=count_retry):
            with attempt:
                return await self._once(request, endpoint)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _once(self, request: ApiRequest, endpoint: str) -> ApiResponse:
        # The endpoint's budget first, then a global slot: requests paced on one endpoint
        # must not hold slots that another endpoint's requests could use now.
        ticket = await self.limiter.acquire(endpoint)
        loop = asyncio.get_running_loop()
        if loop is not self._slots_loop:  # a caller may drive one facade from several loops
            self._slots_loop = loop
            self._slots = asyncio.Semaphore(max(1, self.settings.concurrency))
        headers: dict[str, str] = {}
        verdict: bool | None = None  # True: healthy answer, False: failure, None: unknown
        failure: str | None = None
        failed_with: SentryError | None = None
        status: int | None = None
        started = 0.0
        try:
            async with self._slots:
                probe = self.breaker.before_call()  # CircuitOpenError: nothing to account for
                started = time.monotonic()
                try:
                    response = await self.client.send(request.method, request.path,
                                                      params=request.params, json=request.json)
                    status, headers, verdict = response.status, response.headers, True
                    return response
                except SentryHTTPError as error:
                    status, headers, verdict = error.status, error.headers, error.status < 500
                    failure, failed_with = str(error), error
                    if isinstance(error, RateLimited):
                        self.limiter.rate_limited(endpoint, error.retry_at, headers)
                    raise
                except SentryError as error:
                    verdict, failure, failed_with = False, str(error), error
                    raise
                finally:
                    side = "read" if request.method in ("GET", "HEAD") else "write"
                    if verdict is True:
                        self.breaker.on_success(probe, side=side)
                    elif verdict is False:
                        self.breaker.on_failure(probe, reason=failure, error=failed_with,
                                                side=side)
                    else:
                        self.breaker.on_abandoned(probe)
                    if verdict is not None:
                        self.metrics.route(endpoint).observe(status, time.monotonic() - started)
        finally:
            self.limiter.release(endpoint, ticket, headers)

    def summary(self) -> str:
        """The `--verbose` text: totals and one line per route."""
        return summary_text(self.metrics, waited=self.limiter.waited,
                            cache_hits=self.cache.hits, cache_misses=self.cache.misses,
                            shared=self.flights.shared)

    async def aclose(self) -> None:
        await self.client.aclose()


def _flight_key(request: ApiRequest) -> Hashable:
    params = tuple(sorted(
        (k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in request.params.items()))
    return (request.method, request.path, params)
