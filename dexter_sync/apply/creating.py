"""Create safety: a POST is never retried blindly, so a lost response never leaves a duplicate.

After an ambiguous failure (5xx, dropped connection, timeout) the object is looked up by its
natural key (`facade.find_live`) before the POST is sent again: found means it was created
and only the answer was lost, so it is adopted. Issue alerts answer a repeated POST with a
400 "exact duplicate" carrying `ruleId`: adopted when the rule with our natural key is that
rule, otherwise a conflict with Sentry's own text. Kinds whose POST is get-or-create
(releases: `create_is_idempotent`) are simply sent again. A create refused as a conflict
is adopted when the object with its natural key turns out to exist.

A POST Sentry may have handed to a background task (a Slack rule answered 202, the kind's
`may_answer_with_task`) can land after the look-up: there the look-up is repeated until the
object appears or `TaskLimits.wait` has passed (any such task has ended by then), and only
then may the POST go out again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..core.changes import ResourceChange
from ..core.state import LiveObject
from ..kinds.base import ResourceKind
from ..sentry.errors import SentryError
from .failures import BreakerOpen, WriteFailure, classify
from .ports import WriteFacade, send_write
from .report import ChangeOutcome, Status
from .tasks import DEFAULT_LIMITS, TaskLimits, follow_task, task_uuid

CREATE_ATTEMPTS = 5
ADOPTED = "adopted: it already exists under its natural key (an earlier answer was lost)"


class _LookupFailed(Exception):
    pass


async def _lookup(facade: WriteFacade, change: ResourceChange) -> LiveObject | None:
    try:
        return await facade.find_live(change.kind, change.key, project=change.project,
                                      parent=change.parent_key)
    except SentryError as error:
        failure = classify(error)
        if failure.category == "breaker":
            raise BreakerOpen(failure.message, sent=True) from error
        raise _LookupFailed(failure.message) from error


async def _lookup_after_task(facade: WriteFacade, change: ResourceChange,
                             wait: float) -> LiveObject | None:
    """Look the object up until it appears or `wait` seconds have passed: a task Sentry
    started for a POST whose answer was lost creates it in the background."""
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        found = await _lookup(facade, change)
        left = deadline - time.monotonic()
        if found is not None or left <= 0:
            return found
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, 5.0)


def _body_id(body: object) -> str | None:
    if isinstance(body, dict) and body.get("id") is not None:
        return str(body["id"])
    return None


async def _after_rejection(facade: WriteFacade, kind: ResourceKind[Any], change: ResourceChange,
                           failure: WriteFailure, writes: int) -> ChangeOutcome:
    """A create Sentry refused: adopt the object if it exists after all, else fail with
    Sentry's text.

    "Already exists" answers (409, a code mapping's or repository's 400, an issue link
    "already linked" after the gateway re-sent a PUT whose answer was lost) mean the object
    with our natural key is there. An issue alert's "exact duplicate" 400 names the rule it
    duplicates (the kind's `existing_id_from_rejection`): adopted only when that rule is
    ours, otherwise a conflict.
    """
    if failure.status not in (400, 409):
        return ChangeOutcome(change, Status.FAILED, failure.message, None, writes)
    try:
        found = await _lookup(facade, change)
    except _LookupFailed:
        found = None  # nothing was written: Sentry's refusal is the answer
    rule_id = kind.existing_id_from_rejection(failure.body)
    if found is not None and (rule_id is None or str(found.id) == rule_id):
        return ChangeOutcome(change, Status.APPLIED, ADOPTED, found.id, writes)
    return ChangeOutcome(change, Status.FAILED, failure.message, None, writes)


async def create_safely(facade: WriteFacade, kind: ResourceKind[Any], organization: str,
                        change: ResourceChange, *, attempts: int = CREATE_ATTEMPTS,
                        backoff: float = 0.1, tasks: TaskLimits = DEFAULT_LIMITS
                        ) -> ChangeOutcome:
    """Create one object, at most once, whatever the network does."""
    request = kind.create_request(organization, change)
    idempotent = kind.create_is_idempotent()
    task_wait = tasks.wait if kind.may_answer_with_task(request) else 0.0

    async def look() -> LiveObject | None:
        return await _lookup_after_task(facade, change, task_wait)

    writes = 0
    maybe_created = False  # an earlier POST of this change may have landed
    last: WriteFailure | None = None
    try:
        for attempt in range(attempts):
            if attempt:
                # Wait first: a write Sentry is still committing must be visible to the look-up.
                await asyncio.sleep(backoff * 2 ** (attempt - 1))
            if maybe_created and not idempotent:
                found = await look()
                if found is not None:
                    return ChangeOutcome(change, Status.APPLIED, ADOPTED, found.id, writes)
            sent = await send_write(facade, request)
            writes += sent.requests
            if sent.response is not None:
                uuid = task_uuid(sent.response.status, sent.response.body)
                if uuid is None:
                    return ChangeOutcome(change, Status.APPLIED, None,
                                         _body_id(sent.response.body), writes)
                task = await follow_task(facade, change, uuid, limits=tasks)
                status = Status.APPLIED if task.state == "success" else Status.FAILED
                return ChangeOutcome(change, status, task.error, task.live_id, writes)
            last = sent.failure
            assert last is not None
            if last.category == "breaker":
                raise BreakerOpen(last.message, sent=maybe_created)
            if last.category == "rejected":
                return await _after_rejection(facade, kind, change, last, writes)
            if last.category == "rate-limited":
                return ChangeOutcome(change, Status.FAILED, last.message, None, writes)
            maybe_created = True
        # Out of attempts after ambiguous failures: one last look before reporting failure.
        if not idempotent:
            found = await look()
            if found is not None:
                return ChangeOutcome(change, Status.APPLIED, ADOPTED, found.id, writes)
        detail = last.message if last else "create failed"
        if not idempotent:
            detail += " (not created: checked by natural key)"
        return ChangeOutcome(change, Status.FAILED, detail, None, writes)
    except BreakerOpen as error:
        error.writes = writes  # the report counts what this change did send
        raise
    except _LookupFailed as error:
        return ChangeOutcome(change, Status.FAILED,
                             f"outcome unknown, look-up failed: {error} (the next run adopts "
                             "the object if it was created)", None, writes)
