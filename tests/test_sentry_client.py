"""The client and gateway against small ASGI servers plugged in as transports (no patching):
Link cursors followed until results="false", a repeated cursor stopped, query lists, a 410
from a retired endpoint, Retry-After from a proxy honoured, non-JSON error bodies."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

import httpx
import pytest

from dexter_sync.core.requests import ApiRequest
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import Gone, SentryError, ServerError
from dexter_sync.sentry.gateway import Gateway, GatewaySettings
from dexter_sync.sentry.reading import list_all
from dexter_sync.sentry.retrying import RetryPolicy

FAST = RetryPolicy(attempts=3, initial=0.01, maximum=0.01, jitter=0)


def app_of(handler):
    """An ASGI app from `handler(method, path, query) -> (status, headers, body)`."""
    seen: list[tuple[str, str, dict]] = []

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        query = parse_qs(scope["query_string"].decode())
        seen.append((scope["method"], scope["path"], query))
        status, headers, body = handler(scope["method"], scope["path"], query)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (k.encode(), v.encode()) for k, v in headers.items()]})
        await send({"type": "http.response.body", "body": raw})

    app.seen = seen  # type: ignore[attr-defined]
    return app


def gateway_on(app) -> Gateway:
    client = SentryClient(base_url="http://sentry.test", token="test-token-1",
                          transport=httpx.ASGITransport(app=app))
    return Gateway(client, GatewaySettings(retry=FAST))


def link(cursor: str, more: bool) -> str:
    return (f'<http://sentry.test/x/?&cursor=0:0:1>; rel="previous"; results="false"; '
            f'cursor="0:0:1", <http://sentry.test/x/?&cursor={cursor}>; rel="next"; '
            f'results="{"true" if more else "false"}"; cursor="{cursor}"')


def run(coro_fn, gateway):
    async def main():
        try:
            return await coro_fn()
        finally:
            await gateway.aclose()
    return asyncio.run(main())


def test_pages_follow_cursors_until_results_false_with_repeated_params():
    def handler(method, path, query):
        page = int(query.get("cursor", ["0:0:0"])[0].split(":")[1])
        return 200, {"link": link(f"0:{page + 1}:0", page < 2)}, [{"id": str(page)}]

    app = app_of(handler)
    gateway = gateway_on(app)
    items = run(lambda: list_all(gateway, ApiRequest("GET", "organizations/acme/releases/",
                                                     params={"project": ["1", "2"]})), gateway)
    assert [i["id"] for i in items] == ["0", "1", "2"]
    assert len(app.seen) == 3
    assert all(q["project"] == ["1", "2"] and q["per_page"] == ["100"] for _, _, q in app.seen)
    assert "cursor" not in app.seen[0][2] and app.seen[2][2]["cursor"] == ["0:2:0"]


def test_a_repeated_cursor_stops_pagination_with_an_error():
    app = app_of(lambda m, p, q: (200, {"link": link("0:1:0", True)}, [{"id": "1"}]))
    gateway = gateway_on(app)
    with pytest.raises(SentryError, match="repeated the cursor"):
        run(lambda: list_all(gateway, ApiRequest("GET", "organizations/acme/repos/")), gateway)
    assert len(app.seen) == 2


def test_a_retired_endpoint_is_gone_not_missing_and_not_retried():
    app = app_of(lambda m, p, q: (410, {}, {"detail": "This endpoint has been retired."}))
    gateway = gateway_on(app)
    with pytest.raises(Gone) as caught:
        run(lambda: gateway.request(ApiRequest("GET", "organizations/acme/alert-rules/")),
            gateway)
    assert "retired" in str(caught.value) and "workflows" in str(caught.value)
    assert caught.value.code == "sentry-endpoint-retired" and len(app.seen) == 1


def test_retry_after_from_a_proxy_is_honoured():
    answers = iter([(429, {"retry-after": "0.2"}, {"detail": "slow down"}),
                    (200, {}, [{"id": "1"}])])
    app = app_of(lambda m, p, q: next(answers))
    gateway = gateway_on(app)
    before = time.time()
    response = run(lambda: gateway.request(ApiRequest("GET", "organizations/acme/teams/")),
                   gateway)
    budget = gateway.limiter.budget("GET organizations/{org}/teams/")
    assert response.status == 200 and len(app.seen) == 2
    assert budget.blocked_until >= before + 0.2  # the endpoint waited as long as it was told
    assert gateway.metrics.rate_limited == 1 and gateway.metrics.retries == 1


def test_a_non_json_error_page_is_trimmed_into_the_message():
    page = b"<html>" + b"bad gateway " * 500 + b"</html>"
    app = app_of(lambda m, p, q: (502, {"content-type": "text/html"}, page))
    gateway = gateway_on(app)
    with pytest.raises(ServerError) as caught:
        run(lambda: gateway.request(ApiRequest("PUT", "organizations/acme/x/", json={})),
            gateway)
    assert len(str(caught.value)) < 700 and "bad gateway" in str(caught.value)
    assert len(app.seen) == FAST.attempts  # PUT is idempotent: retried
