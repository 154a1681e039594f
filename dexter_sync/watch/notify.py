"""`--notify`: chosen events to a Slack incoming webhook as Block Kit messages.

`offer` only queues (bounded, drop-oldest) so the loop never waits for Slack; one worker
posts in order, retrying connection errors, 5xx and 429 (honouring Retry-After) with
exponential backoff (tenacity), and counts what was sent, failed and dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ..sentry.redaction import register_secret
from .events import WatchEvent
from .metrics import Counters

log = logging.getLogger(__name__)

QUEUE_SIZE = 500
ATTEMPTS = 5
TIMEOUT = 10.0

TITLES = {
    "drift.detected": "Drift detected", "drift.resolved": "Drift resolved",
    "apply.succeeded": "Drift healed", "apply.failed": "Healing drift failed",
    "issue.new": "New issue", "issue.regressed": "Issue regressed",
    "incident.opened": "Metric alert fired", "incident.resolved": "Metric alert resolved",
    "release.deployed": "Release deployed", "release.regression": "Release regression",
    "sentry.unavailable": "Sentry unavailable", "sentry.recovered": "Sentry recovered",
}


class SlackRejected(Exception):
    def __init__(self, status: int, text: str, retry_after: float | None = None) -> None:
        super().__init__(f"Slack answered {status}: {text[:200]}")
        self.status = status
        self.retry_after = retry_after


def _fields(event: WatchEvent) -> list[str]:
    data = event.data
    lines: list[str] = []
    if event.type.startswith("drift.") or event.type.startswith("apply."):
        if data.get("action"):
            lines.append(f"*Change:* {data['action']}")
        for item in (data.get("diff") or [])[:10]:
            lines.append(f"• `{item.get('path')}`: {json.dumps(item.get('before'), default=str)}"
                         f" → {json.dumps(item.get('after'), default=str)}")
        if data.get("file"):
            lines.append(f"*Manifest:* `{data['file']}`")
        if data.get("changed_by"):
            lines.append(f"*Changed by:* {data['changed_by']} at {data.get('changed_at')}")
        if data.get("detail"):
            lines.append(f"*Detail:* {data['detail']}")
    else:
        for name in ("title", "project", "projects", "environment", "reason", "permalink",
                     "web_url"):
            if data.get(name):
                lines.append(f"*{name.replace('_', ' ').capitalize()}:* {data[name]}")
    return lines


def block_kit(event: WatchEvent) -> dict[str, Any]:
    """One Slack message: header, what happened, where (Block Kit)."""
    title = TITLES.get(event.type, event.type)
    subject = f"{event.kind}/{event.key}" if event.kind and event.key else event.organization
    text = f"{title}: {subject}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
    ]
    details = _fields(event)
    if details:
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": "\n".join(details)[:2900]}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"`{event.type}` · {event.organization} · {event.time}"}]})
    return {"text": text, "blocks": blocks}


def _retryable(error: BaseException) -> bool:
    if isinstance(error, SlackRejected):
        return error.status == 429 or error.status >= 500
    return isinstance(error, httpx.TransportError)


class SlackNotifier:
    def __init__(self, url: str, counters: Counters, *, types: frozenset[str] | None = None,
                 queue_size: int = QUEUE_SIZE, attempts: int = ATTEMPTS,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        register_secret(url)  # the webhook URL is a credential: never in a log line
        self.url = url
        self.counters = counters
        self.types = types
        self.attempts = attempts
        self._queue: deque[WatchEvent] = deque()
        self._size = queue_size
        self._ready = asyncio.Event()
        self._client = httpx.AsyncClient(timeout=TIMEOUT, transport=transport)
        self._worker: asyncio.Task[None] | None = None
        self._closing = False

    def offer(self, event: WatchEvent) -> None:
        if self.types is not None and event.type not in self.types:
            return
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self.counters.count(self.counters.notify, "dropped")
        self._queue.append(event)
        self._ready.set()

    def start(self) -> None:
        self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        while True:
            while not self._queue:
                if self._closing:
                    return
                self._ready.clear()
                await self._ready.wait()
            event = self._queue.popleft()
            try:
                await self._post(block_kit(event))
                self.counters.count(self.counters.notify, "sent")
            except (SlackRejected, httpx.HTTPError, OSError) as error:  # never fatal
                self.counters.count(self.counters.notify, "failed")
                log.warning("could not notify Slack of %s: %s", event.type, error)

    async def _post(self, message: dict[str, Any]) -> None:
        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, SlackRejected) and error.retry_after is not None:
                return min(error.retry_after, 30.0)
            return float(wait_exponential_jitter(initial=0.2, max=10.0)(state))

        async for attempt in AsyncRetrying(stop=stop_after_attempt(self.attempts), wait=wait,
                                           retry=retry_if_exception(_retryable), reraise=True):
            with attempt:
                response = await self._client.post(self.url, json=message)
                if response.status_code >= 300:
                    after = response.headers.get("retry-after")
                    raise SlackRejected(response.status_code, response.text,
                                        float(after) if after and after.isdigit() else None)

    async def aclose(self, timeout: float = 3.0) -> None:
        """Send what is queued (within `timeout`), then close."""
        self._closing = True
        self._ready.set()
        if self._worker is not None:
            done, _ = await asyncio.wait({self._worker}, timeout=timeout)
            if not done:
                self._worker.cancel()
                await asyncio.gather(self._worker, return_exceptions=True)
        await self._client.aclose()
