"""The daemon's server, for real: sentry-sdk -> emulator -> `issue.new` on an SSE and a
WebSocket client; signed webhooks streamed, unsigned or wrongly signed ones refused;
`?types=` and `Last-Event-ID`; the optional bearer token; /metrics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dexter_sync.watch.webhooks import sign
from tests.helpers_watch import (
    Daemon,
    Emulator,
    SseClient,
    poll,
    send_exception,
    served_emulator,
    watching,
    write_manifests,
)

SECRET = "webhook-client-secret"


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    manifests = write_manifests(tmp_path / "sentry")
    with served_emulator(tmp_path, manifests) as emulator:
        emulator.extra_manifests = manifests  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def daemon(emu: Emulator) -> Iterator[Daemon]:
    manifests = emu.extra_manifests  # type: ignore[attr-defined]
    with watching(emu, manifests, env={"DEXTER_WEBHOOK_SECRET": SECRET}) as running:
        running.wait_started()
        yield running


def test_sdk_exception_reaches_sse_and_websocket_clients(emu: Emulator, daemon: Daemon) -> None:
    assert daemon.url is not None
    sse = SseClient(f"{daemon.url}/events?types=issue.new")
    ws_url = daemon.url.replace("http://", "ws://") + "/ws?types=issue.*"
    with connect(ws_url, open_timeout=10) as ws:
        poll(lambda: daemon.metric("dexter_watch_stream_subscribers") == 2,
             what="both subscribers")
        send_exception(emu, "checkout exploded")
        event = sse.wait_for(lambda m: m["type"] == "issue.new", what="issue.new on SSE")
        assert event["data"]["title"] == "ValueError: checkout exploded"
        assert event["data"]["project"] == "backend" and event["kind"] == "issue"
        over_ws = json.loads(ws.recv(timeout=10))
        assert over_ws == event  # the same message on both streams
    stdout = daemon.of_type("issue.new")
    assert len(stdout) == 1 and stdout[0]["key"] == event["key"]
    assert all(m[1] == "issue.new" for m in sse.messages)
    sse.close()


def test_signed_webhook_is_streamed_and_bad_signatures_are_refused(daemon: Daemon) -> None:
    assert daemon.url is not None
    sse = SseClient(f"{daemon.url}/events")
    body = json.dumps({
        "action": "critical", "installation": {"uuid": "inst-1"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
        "data": {"metric_alert": {"id": "77", "identifier": "12", "status": 20,
                                  "title": "p95 too slow", "projects": ["backend"],
                                  "alert_rule": {"id": "170001", "name": "p95 too slow"}},
                 "description_text": "p95 above 2s", "web_url": "http://x/alerts/12/"}},
    ).encode()
    url = f"{daemon.url}/webhooks/sentry"
    headers = {"Content-Type": "application/json", "Sentry-Hook-Resource": "metric_alert",
               "Request-ID": "r-1"}
    unsigned = httpx.post(url, content=body, headers=headers)
    wrong = httpx.post(url, content=body, headers={**headers, "Sentry-Hook-Signature":
                                                   sign("another secret", body)})
    tampered = httpx.post(url, content=body + b" ",
                          headers={**headers, "Sentry-Hook-Signature": sign(SECRET, body)})
    assert (unsigned.status_code, wrong.status_code, tampered.status_code) == (401, 401, 401)
    assert daemon.metric('dexter_watch_webhooks_total{result="bad-signature"}') == 3
    assert daemon.of_type("incident.opened") == []

    signed = httpx.post(url, content=body,
                        headers={**headers, "Sentry-Hook-Signature": sign(SECRET, body)})
    assert signed.status_code == 200 and signed.json() == {"accepted": 1}
    event = sse.wait_for(lambda m: m["type"] == "incident.opened", what="the webhook event")
    assert (event["kind"], event["key"]) == ("incident", "12")
    assert event["data"]["source"] == "webhook"
    assert event["data"]["alert_rule"]["name"] == "p95 too slow"
    # Sentry's retry of the same delivery is accepted and not emitted again
    again = httpx.post(url, content=body,
                       headers={**headers, "Sentry-Hook-Signature": sign(SECRET, body)})
    assert again.json()["duplicate"] is True
    poll(lambda: daemon.of_type("incident.opened"), what="the stdout line")
    assert len(daemon.of_type("incident.opened")) == 1
    assert [m[1] for m in sse.messages] == ["incident.opened"]
    sse.close()


def test_last_event_id_resumes_and_types_filter(daemon: Daemon) -> None:
    assert daemon.url is not None
    url = f"{daemon.url}/webhooks/sentry"
    for number in range(3):
        body = json.dumps({"action": "created", "data": {"issue": {
            "id": str(100 + number), "shortId": f"BACKEND-{number}", "title": f"boom {number}",
            "project": {"slug": "backend"}}}}).encode()
        response = httpx.post(url, content=body, headers={
            "Sentry-Hook-Resource": "issue", "Sentry-Hook-Signature": sign(SECRET, body)})
        assert response.status_code == 200
    everything = SseClient(f"{daemon.url}/events", headers={"Last-Event-ID": "0"})
    poll(lambda: len([m for m in everything.messages if m[1] == "issue.new"]) == 3,
         what="the kept history")
    ids = [m[0] for m in everything.messages if m[1] == "issue.new"]
    live_only = SseClient(f"{daemon.url}/events")
    resumed = SseClient(f"{daemon.url}/events", headers={"Last-Event-ID": str(ids[0])})
    poll(lambda: len(resumed.messages) == 2, what="the two events after the first")
    assert [m[2]["key"] for m in resumed.messages] == ["BACKEND-1", "BACKEND-2"]
    assert [m[0] for m in resumed.messages] == ids[1:]
    assert live_only.messages == []
    filtered = SseClient(f"{daemon.url}/events?types=drift.*,incident.*",
                         headers={"Last-Event-ID": "0"})
    poll(lambda: filtered.messages, what="the filtered history")
    assert [m[1] for m in filtered.messages] == ["drift.detected"]  # the unapplied alert
    bad = httpx.get(f"{daemon.url}/events?types=nonsense")
    assert bad.status_code == 400 and "unknown-event-type" in bad.text
    for client in (everything, live_only, resumed, filtered):
        client.close()


def test_healthz_and_metrics(daemon: Daemon) -> None:
    assert daemon.url is not None
    health = httpx.get(f"{daemon.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    text = httpx.get(f"{daemon.url}/metrics").text
    for name in ("dexter_watch_cycles_total", "dexter_watch_cycle_duration_seconds_count",
                 "dexter_watch_drift_objects", "dexter_watch_sentry_requests_total",
                 "dexter_watch_sentry_rate_limited_total", "dexter_watch_sentry_retries_total",
                 'dexter_watch_breaker_state{state="closed"} 1.0'):
        assert name in text, name
    # the manifests were never applied: the one alert is drift
    assert daemon.metric("dexter_watch_drift_objects") == 1


def test_stream_token_protects_events_and_ws(emu: Emulator) -> None:
    manifests = emu.extra_manifests  # type: ignore[attr-defined]
    with watching(emu, manifests, env={"DEXTER_WATCH_TOKEN": "stream-secret"}) as daemon:
        assert daemon.url is not None
        assert httpx.get(f"{daemon.url}/events").status_code == 401
        assert httpx.get(f"{daemon.url}/events", headers={
            "Authorization": "Bearer wrong"}).status_code == 401
        ok = SseClient(f"{daemon.url}/events",
                       headers={"Authorization": "Bearer stream-secret"})
        assert ok.status == 200
        ok.close()
        ws_url = daemon.url.replace("http://", "ws://") + "/ws"
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url, open_timeout=10)
        assert refused.value.response.status_code == 403  # refused before the handshake
        with connect(ws_url, open_timeout=10,
                     additional_headers={"Authorization": "Bearer stream-secret"}):
            poll(lambda: daemon.metric("dexter_watch_stream_subscribers") == 1,
                 what="the authorized WebSocket")
        assert httpx.get(f"{daemon.url}/healthz").status_code == 200  # not protected
