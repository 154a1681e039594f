"""Updates and deletes: idempotent writes (the gateway retries them), one change each.

An update answered 202 `{"uuid"}` is followed through the rule-task endpoint like a create.
A delete answered 404 is already done (someone removed the object since the plan).
"""

from __future__ import annotations

from typing import Any

from ..core.changes import ResourceChange
from ..kinds.base import ResourceKind
from .failures import BreakerOpen
from .ports import WriteFacade, send_write
from .report import ChangeOutcome, Status
from .tasks import DEFAULT_LIMITS, TaskLimits, follow_task, task_uuid


async def update(facade: WriteFacade, kind: ResourceKind[Any], organization: str,
                 change: ResourceChange, *, tasks: TaskLimits = DEFAULT_LIMITS
                 ) -> ChangeOutcome:
    """Send every call the update needs (`update_requests`, in order); stop at a failure."""
    writes = 0
    live_id = change.live_id
    for request in kind.update_requests(organization, change):
        sent = await send_write(facade, request)
        writes += sent.requests
        if sent.failure is not None:
            if sent.failure.category == "breaker":
                # Updates are idempotent: one refused before it went out is simply not done.
                raise BreakerOpen(sent.failure.message, sent=False)
            return ChangeOutcome(change, Status.FAILED, sent.failure.message, live_id, writes)
        assert sent.response is not None
        uuid = task_uuid(sent.response.status, sent.response.body)
        if uuid is not None:
            task = await follow_task(facade, change, uuid, limits=tasks)
            if task.state != "success":
                return ChangeOutcome(change, Status.FAILED, task.error, live_id, writes)
            live_id = task.live_id or live_id
    return ChangeOutcome(change, Status.APPLIED, None, live_id, writes)


async def delete(facade: WriteFacade, kind: ResourceKind[Any], organization: str,
                 change: ResourceChange) -> ChangeOutcome:
    sent = await send_write(facade, kind.delete_request(organization, change))
    if sent.response is not None:
        return ChangeOutcome(change, Status.APPLIED, None, change.live_id, sent.requests)
    failure = sent.failure
    assert failure is not None
    if failure.category == "breaker":
        raise BreakerOpen(failure.message, sent=False)
    if failure.status == 404:
        return ChangeOutcome(change, Status.APPLIED, "already deleted", change.live_id,
                             sent.requests)
    return ChangeOutcome(change, Status.FAILED, failure.message, change.live_id, sent.requests)
