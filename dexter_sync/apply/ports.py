"""What apply needs from the facade (dexter_sync.sentry.facade.SentryFacade), as a Protocol,
and one helper that turns a write into either a response or a WriteFailure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from ..core.requests import ApiRequest
from ..core.state import DesiredState, LiveObject, LiveState
from ..sentry.errors import SentryError
from .failures import WriteFailure, classify, from_response

RATE_LIMIT_RESENDS = 5
"""A 429 the gateway surfaced means nothing was written: resend up to this many times."""


class ResponseLike(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> Any: ...


class WriteFacade(Protocol):
    async def send(self, request: ApiRequest) -> ResponseLike: ...

    async def find_live(self, kind: str, key: str, *, project: str | None = None,
                        parent: str | None = None) -> LiveObject | None: ...

    async def poll_task(self, project: str, uuid: str, *, kind: str,
                        timeout: float) -> Any: ...

    async def read_state(self, kinds: list[str], *, projects: list[str] | None = None,
                         desired: DesiredState | None = None) -> LiveState: ...


@dataclass
class Sent:
    """The result of one write: a response, or a failure (never both)."""

    response: ResponseLike | None = None
    failure: WriteFailure | None = None
    requests: int = 0
    """Write requests handed to the facade (429 resends included)."""


async def send_write(facade: WriteFacade, request: ApiRequest, *,
                     backoff: float = 0.5) -> Sent:
    sent = Sent()
    for attempt in range(RATE_LIMIT_RESENDS + 1):
        sent.requests += 1
        try:
            response = await facade.send(request)
        except SentryError as error:  # the gateway's whole error tree
            failure = classify(error)
        else:
            if response.status < 400:
                sent.response, sent.failure = response, None
                return sent
            failure = from_response(response.status, response.body)
        sent.failure = failure
        if failure.category != "rate-limited" or attempt == RATE_LIMIT_RESENDS:
            return sent
        await asyncio.sleep(min(backoff * 2**attempt, 5.0))
    return sent
