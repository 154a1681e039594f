"""Pure parts of the sentry package: Link parsing, route templates, error mapping and texts,
redaction, retry classification, rate-limit budgets and the breaker on a fake clock,
single-flight and the TTL cache."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dexter_sync.core.diagnostics import DexterError
from dexter_sync.sentry import errors
from dexter_sync.sentry.breaker import BreakerState, CircuitBreaker
from dexter_sync.sentry.cache import TTLCache
from dexter_sync.sentry.links import next_cursor, parse_link_header
from dexter_sync.sentry.ratelimit import EndpointBudget, RateLimiter
from dexter_sync.sentry.redaction import MASK, RedactingFilter, redact, register_secret
from dexter_sync.sentry.retrying import is_retryable
from dexter_sync.sentry.routes import endpoint_key, route_template
from dexter_sync.sentry.singleflight import SingleFlight


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


LINK = ('<https://sentry.io/api/0/organizations/acme/releases/?&cursor=100:-1:1>; rel="previous"; '
        'results="false"; cursor="100:-1:1", <https://sentry.io/api/0/organizations/acme/'
        'releases/?&cursor=100:1:0>; rel="next"; results="{}"; cursor="100:1:0"')


def test_link_header_next_cursor_until_results_false():
    assert next_cursor(LINK.format("true")) == "100:1:0"
    assert next_cursor(LINK.format("false")) is None
    assert next_cursor(None) is None
    links = parse_link_header(LINK.format("true"))
    assert links["previous"].results is False and links["next"].results is True


def test_route_templates_replace_identifiers_by_position():
    assert route_template("projects/acme/web/rules/12/") == "projects/{org}/{project}/rules/{id}/"
    assert route_template("organizations/acme/alert-rules/") == "organizations/{org}/alert-rules/"
    assert endpoint_key("get", "organizations/acme/issues/9/events/") == \
        "GET organizations/{org}/issues/{id}/events/"
    assert route_template("organizations/acme/discover/saved/") == \
        "organizations/{org}/discover/saved/"
    assert route_template("organizations/acme/discover/saved/77/") == \
        "organizations/{org}/discover/saved/{id}/"
    assert route_template("organizations/acme/releases/v1.2%40x/deploys/") == \
        "organizations/{org}/releases/{id}/deploys/"
    assert route_template("projects/acme/web/rule-task/abc123/") == \
        "projects/{org}/{project}/rule-task/{id}/"


@pytest.mark.parametrize("status, body, cls, text", [
    (400, {"timeWindow": ["Invalid time window"], "triggers": [{}, {"actions": ["need one"]}]},
     errors.BadRequest, "timeWindow: Invalid time window; triggers[1].actions: need one"),
    (400, ["You may not exceed 5 metric alerts"], errors.BadRequest,
     "You may not exceed 5 metric alerts"),
    (403, {"detail": {"code": "sso-required", "message": "SSO required"}}, errors.Forbidden,
     "SSO required"),
    (404, {"detail": "The requested resource does not exist"}, errors.NotFound,
     "The requested resource does not exist"),
    (410, {"detail": "This API has been retired"}, errors.Gone, "retired"),
    (503, None, errors.ServerError, "upstream down"),
])
def test_error_mapping_keeps_sentry_text_method_and_path(status, body, cls, text):
    error = errors.error_for(status=status, method="POST", path="/api/0/organizations/acme/x/",
                             body=body, text="upstream down", headers={})
    assert type(error) is cls and isinstance(error, DexterError)
    assert text in str(error) and "POST /api/0/organizations/acme/x/" in str(error)
    assert error.status == status


@pytest.mark.parametrize("status, hint", [
    (401, "Invalid token (check SENTRY_AUTH_TOKEN: it is missing, invalid or expired)"),
    (403, "no scope (the token lacks a scope this call needs)"),
    (404, "no scope"),
])
def test_auth_errors_end_with_what_to_do(status, hint):
    detail = "Invalid token" if status == 401 else "no scope"
    error = errors.error_for(status=status, method="GET", path="/api/0/x/",
                             body={"detail": detail}, text="", headers={})
    assert str(error).endswith(f"GET /api/0/x/: {hint}")


def test_gone_never_reads_as_missing_object():
    error = errors.error_for(status=410, method="GET", path="/api/0/projects/a/b/rules/",
                             body={"detail": "gone"}, text="", headers={})
    assert not isinstance(error, errors.NotFound) and "retired" in str(error)


def test_retry_at_prefers_retry_after_then_reset():
    assert errors.retry_at({"Retry-After": "3"}, now=100.0) == 103.0
    assert errors.retry_at({"X-Sentry-Rate-Limit-Reset": "150"}, now=100.0) == 150.0
    assert errors.retry_at({}, now=100.0) is None


def test_error_texts_are_trimmed_and_redacted():
    register_secret("sntrys_UNIT_SECRET_123456")
    long = "x" * 5000 + " sntrys_UNIT_SECRET_123456"
    error = errors.error_for(status=500, method="GET", path="/api/0/", body=None, text=long,
                             headers={})
    assert len(str(error)) < 700 and "sntrys_UNIT_SECRET" not in str(error)
    error = errors.error_for(status=400, method="GET", path="/api/0/", body={
        "detail": "bad token sntrys_UNIT_SECRET_123456"}, text="", headers={})
    assert "sntrys_UNIT_SECRET" not in str(error) and MASK in str(error)


def test_log_records_are_redacted():
    register_secret("sntrys_LOG_SECRET_abcdef")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token is %s", (
        "sntrys_LOG_SECRET_abcdef",), None)
    assert RedactingFilter().filter(record)
    assert "sntrys_LOG_SECRET" not in record.getMessage()
    assert redact("a sntrys_LOG_SECRET_abcdef b") == f"a {MASK} b"


def test_retry_classification_never_retries_post_blindly():
    server = errors.ServerError(status=502, method="POST", path="/x", detail="bad gateway")
    dropped = errors.SentryConnectionError("dropped", sent=True)
    refused = errors.SentryConnectionError("refused", sent=False)
    limited = errors.RateLimited(status=429, method="POST", path="/x", detail="slow down")
    assert not is_retryable("POST", server) and not is_retryable("POST", dropped)
    assert is_retryable("POST", refused) and is_retryable("POST", limited)
    assert is_retryable("GET", server) and is_retryable("PUT", dropped)
    assert is_retryable("DELETE", server)
    assert not is_retryable("GET", errors.NotFound(status=404, method="GET", path="/x", detail=""))
    assert not is_retryable("GET", errors.CircuitOpenError("h", failures=3, retry_in=5))


def _headers(limit, remaining, reset, concurrent=None):
    h = {"x-sentry-rate-limit-limit": str(limit), "x-sentry-rate-limit-remaining": str(remaining),
         "x-sentry-rate-limit-reset": str(reset)}
    if concurrent is not None:
        h["x-sentry-rate-limit-concurrentlimit"] = str(concurrent)
    return h


def test_budget_sends_the_window_budget_counting_requests_in_flight():
    """Sentry's windows are fixed: the budget may go at once (spreading it only loses
    time), but never beyond it: requests in flight count against it."""
    budget = EndpointBudget()
    assert budget.delay(1000.0) == 0  # nothing known: no waiting
    seq = budget.on_send(1000.0)
    budget.on_done(_headers(40, 39, 1001), seq, 1000.0)
    for _ in range(39):
        assert budget.delay(1000.0) == 0 and budget.has_slot()
        budget.on_send(1000.0)  # all 39 in flight, none answered yet
    assert budget.remaining == 39 and budget.in_flight == 39 and budget.headroom() == 0
    assert not budget.has_slot()  # the 41st waits: every request in flight may count
    # Sentry had counted one of them already: its answer says so, and frees no headroom
    budget.on_done(_headers(40, 0, 1001), 2, 1000.1)
    assert budget.remaining == 0 and budget.delay(1000.1) == pytest.approx(0.9)
    assert budget.delay(1001.0) == 0 and budget.headroom() == 40 - 38  # the next window


def test_budget_waits_for_reset_when_spent_then_starts_fresh():
    budget = EndpointBudget()
    seq = budget.on_send(1000.2)
    budget.on_done(_headers(20, 0, 1001), seq, 1000.2)
    assert budget.delay(1000.2) == pytest.approx(0.8)
    assert budget.delay(1001.0) == 0  # the window ended: a full budget again
    assert budget.remaining == 20


def test_budget_learns_the_window_and_keeps_pacing_across_windows():
    budget = EndpointBudget()
    seq = budget.on_send(1000.5)
    budget.on_done(_headers(10, 9, 1001), seq, 1000.6)
    assert budget.delay(1001.0) == 0 and budget.reset is None  # window length unknown yet
    seq = budget.on_send(1001.1)
    budget.on_send(1001.1)  # still in flight when the window ends
    budget.on_done(_headers(10, 9, 1002), seq, 1001.2)
    assert budget.window == 1
    budget.delay(1002.05)
    assert budget.reset == 1003 and budget.remaining == 10
    assert budget.headroom() == 9  # the limit less the one in flight


def test_budget_counts_every_request_in_flight_against_the_window():
    """Requests may reach Sentry in another order than they were sent: one answered first
    says nothing of those still in flight, so all of them are deducted."""
    budget = EndpointBudget()
    first = budget.on_send(1000.0)
    budget.on_done(_headers(10, 9, 1001), first, 1000.0)
    for _ in range(6):
        budget.on_send(1000.0)
    budget.on_done(_headers(10, 8, 1001), 3, 1000.1)  # answered out of order
    assert budget.remaining == 8 and budget.headroom() == 8 - 5
    budget.on_done(_headers(10, 9, 1001), 2, 1000.1)  # an older count never raises it
    assert budget.remaining == 8 and budget.headroom() == 8 - 4


def test_budget_caps_concurrency_and_blocks_after_429():
    budget = EndpointBudget()
    seq = budget.on_send(1000.0)
    budget.on_done(_headers(40, 39, 1001, concurrent=2), seq, 1000.0)
    budget.on_send(1000.0)
    budget.on_send(1000.0)
    assert not budget.has_slot()
    budget.on_rate_limited(1003.0, _headers(40, 0, 1003), 1000.5)
    assert budget.delay(1000.5) == pytest.approx(2.5)


def test_limiter_fills_each_window_and_starts_the_next_at_its_reset():
    clock = FakeClock(1000.0)
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)

    async def burst() -> list[float]:
        sent = []
        for n in range(25):
            ticket = await limiter.acquire("GET x/")
            sent.append(clock.now)
            window_end = int(clock.now) + 1
            used = sum(1 for t in sent if int(t) == int(clock.now))
            limiter.release("GET x/", ticket, _headers(10, 10 - used, window_end))
        return sent

    sent = asyncio.run(burst())
    per_window = [sum(1 for t in sent if int(t) == w) for w in (1000, 1001, 1002)]
    assert per_window == [10, 10, 5]  # each window's budget, none beyond it
    assert sent[10] == 1001.0 and sent[20] == 1002.0  # the next window starts at its reset
    assert sent[:10] == [1000.0] * 10  # no spreading inside a window


def test_limiter_without_pacing_ignores_a_spent_budget():
    """The embedded emulator announces limits it does not enforce: with pacing off, a spent
    window neither delays the next request nor leaves `acquire` spinning on a reset that
    never comes (the clock stands still here, as it does between two quick requests)."""
    clock = FakeClock(1000.0)
    limiter = RateLimiter(clock=clock, sleep=clock.sleep, pacing=False)

    async def two() -> None:
        ticket = await limiter.acquire("GET x/")
        limiter.release("GET x/", ticket, _headers(1, 0, 1001, concurrent=1))
        await asyncio.wait_for(limiter.acquire("GET x/"), 5)  # a bound: hung before

    asyncio.run(two())
    assert clock.now == 1000.0 and limiter.waited == 0
    assert limiter.budgets["GET x/"].in_flight == 1


def test_breaker_opens_fails_fast_and_closes_after_a_probe():
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("sentry.test", failure_threshold=3, cooldown=5.0, clock=clock)
    for _ in range(3):
        breaker.before_call()
        breaker.on_failure()
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(errors.CircuitOpenError, match="circuit breaker open"):
        breaker.before_call()
    clock.now = 5.1
    assert breaker.before_call() is True  # the probe
    with pytest.raises(errors.CircuitOpenError):
        breaker.before_call()  # only one probe at a time
    breaker.on_failure()  # a late failure of a call sent before the breaker opened...
    with pytest.raises(errors.CircuitOpenError):
        breaker.before_call()  # ...does not let a second probe through
    breaker.on_failure(probe=True)
    assert breaker.state is BreakerState.OPEN  # a failed probe re-opens
    clock.now = 10.3
    assert breaker.before_call() is True
    breaker.on_success(probe=True)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.transitions == {"closed->open": 1, "open->half-open": 2,
                                   "half-open->open": 1, "half-open->closed": 1}


def test_breaker_success_resets_the_failure_count():
    breaker = CircuitBreaker("h", failure_threshold=3, clock=FakeClock())
    for outcome in (False, False, True, False, False):
        breaker.before_call()
        breaker.on_success() if outcome else breaker.on_failure()
    assert breaker.state is BreakerState.CLOSED


def test_single_flight_shares_one_call_and_its_error():
    flights = SingleFlight()
    calls = 0

    async def slow(fail: bool):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if fail:
            raise ValueError("boom")
        return calls

    async def main():
        ok = await asyncio.gather(*(flights.do("k", lambda: slow(False)) for _ in range(20)))
        bad = await asyncio.gather(*(flights.do("e", lambda: slow(True)) for _ in range(5)),
                                   return_exceptions=True)
        return ok, bad

    ok, bad = asyncio.run(main())
    assert ok == [1] * 20 and calls == 2
    assert all(isinstance(b, ValueError) for b in bad)
    assert flights.calls == 2 and flights.shared == 23


def test_ttl_cache_counts_hits_and_expires():
    clock = FakeClock(0.0)
    cache = TTLCache(ttl=5.0, clock=clock)
    cache.put("a", 1)
    assert cache.get("a") == (True, 1)
    clock.now = 6.0
    assert cache.get("a") == (False, None)
    assert (cache.hits, cache.misses) == (1, 1)


def test_public_surface_is_pinned():
    from dexter_sync import sentry

    assert sorted(sentry.__all__) == sorted([
        "BadRequest", "CircuitOpenError", "Conflict", "Forbidden", "GatewaySettings", "Gone",
        "NotFound", "RateLimited", "RetryPolicy", "SentryConnectionError", "SentryError",
        "SentryFacade", "SentryHTTPError", "ServerError", "Unauthorized", "open_facade"])
    assert all(hasattr(sentry, name) for name in sentry.__all__)
    assert issubclass(sentry.SentryError, DexterError)
