"""What apply needs from the facade (dexter_sync.sentry.facade.SentryFacade), as a Protocol,
and one helper that turns a write into either a response or a WriteFailure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..core.requests import ApiRequest
from ..core.state import DesiredState, LiveObject, LiveState
from ..sentry.errors import SentryError
from .failures import WriteFailure, classify, from_response


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
    """Write requests handed to the facade (the gateway's own retries not counted)."""


async def send_write(facade: WriteFacade, request: ApiRequest) -> Sent:
    """One write through the facade. Retries are the gateway's alone (its RetryPolicy: at
    most `attempts` sends of one request, 429s included); apply never resends on top, so a
    rate-limited write goes out at most that many times."""
    sent = Sent(requests=1)
    try:
        response = await facade.send(request)
    except SentryError as error:  # the gateway's whole error tree
        sent.failure = classify(error)
        return sent
    if response.status < 400:
        sent.response = response
    else:
        sent.failure = from_response(response.status, response.body)
    return sent
