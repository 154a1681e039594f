"""Rule tasks an earlier apply left pending (pending.py), settled before a plan is made.

An apply killed while it polled a Slack rule task leaves the task in the record, and Sentry
may still be creating the rule. Before it plans, apply polls each such task of its Sentry
and organization until the task ends, at most until `--task-wait` has passed since the task
started (one poll at least):

- success: the rule exists, and the plan reads it (it is not created again);
- failed: said so; the rule is missing, and the plan creates it;
- still pending (or unreadable): the create of that key is held back, reported not
  attempted (`earlier-task-pending`, exit 3), and the entry stays for the next run.

An entry without a uuid is a write that was sent and never answered: it may have started a
task nobody knows. Its rule is looked up until it appears or `--task-wait` has passed since
the write (any such task has ended by then), as after a lost answer (creating.py).

An ended task's entry is dropped. Sentry keeps a task's status for an hour, then answers
"pending" for a uuid it no longer knows (RedisRuleStatus: `ex=60*60`, `nx=True`): an older
entry is dropped unpolled, since its task ended long ago and the plan reads whether the rule
exists. So is an entry whose task Sentry answers 404 for. `dexter plan` polls once and says
which creates apply would hold back; it changes nothing. `dexter watch --auto-apply` polls
once per cycle: a create held back in one cycle is tried again in the next.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Literal

from ..core.codes import ErrorCode
from ..sentry.errors import SentryError
from .pending import PendingTask, PendingTaskRecord
from .ports import WriteFacade
from .report import format_seconds
from .tasks import await_appearance

STATUS_LIFETIME = 3600.0
"""Seconds Sentry keeps a rule task's status."""

Settled = Literal["success", "failed", "forgotten", "ended", "pending"]


@dataclass
class EarlierTasks:
    held: dict[str, str] = field(default_factory=dict)
    """Address -> why its create must not be sent in this run."""
    notes: list[str] = field(default_factory=list)
    """One line per recorded task, for stderr."""


async def _look(facade: WriteFacade, task: PendingTask, wait: float,
                once: bool) -> tuple[Settled, str]:
    """A write whose answer never came: look for its rule until it appears or `wait` has
    passed since the write was sent (any task it started has ended by then)."""
    try:
        found = await await_appearance(
            lambda: facade.find_live(task.kind, task.key, project=task.project or None),
            0.0 if once else max(0.0, wait - (time.time() - task.started)))
    except SentryError as error:
        return "pending", f"the rule could not be looked up ({error})"
    if found is not None:
        return "success", ""
    if time.time() - task.started < wait:
        return "pending", "its task may still be running"
    return "ended", ""


async def _poll(facade: WriteFacade, task: PendingTask, wait: float,
                once: bool) -> tuple[Settled, str]:
    if task.uuid is None:
        return await _look(facade, task, wait, once)
    age = time.time() - task.started
    if age >= STATUS_LIFETIME:
        return "forgotten", "Sentry keeps a task's status for an hour"
    try:
        await facade.poll_task(task.project, task.uuid, kind=task.kind,
                               timeout=0.0 if once else max(0.0, wait - age))
    except SentryError as error:
        if error.code == "task-failed":
            return "failed", str(error)
        if error.code == "sentry-not-found":
            return "forgotten", str(error)
        if error.code == "task-pending":
            return "pending", "it is still pending"
        return "pending", f"its state could not be read ({error})"
    return "success", ""


def _what(task: PendingTask) -> str:
    age = format_seconds(max(0.0, time.time() - task.started))
    if task.uuid is None:
        return f"a Slack rule write an earlier apply sent {age} ago, never answered,"
    return f"the Slack rule task {task.uuid} an earlier apply started {age} ago"


def _held(task: PendingTask, why: str) -> str:
    return (f"{_what(task)} may still create this rule ({why}): not created, so that it is "
            f"not doubled; run apply again once the task has ended "
            f"[{ErrorCode.EARLIER_TASK_PENDING}]")


def _ended(task: PendingTask, settled: Settled, detail: str) -> str:
    """What became of a recorded task that has ended, for stderr."""
    if settled == "success":
        return f"{_what(task)} made the rule: it exists, and is not created again"
    if settled == "failed":
        return f"{_what(task)} failed ({detail}); the rule is planned afresh"
    if settled == "ended":
        return f"{_what(task)} made no rule within the task wait; the rule is planned afresh"
    return (f"{_what(task)} is no longer known to Sentry ({detail}); the plan reads whether "
            "the rule exists")


async def settle_earlier_tasks(facade: WriteFacade, record: PendingTaskRecord,
                               organization: str, *, wait: float, once: bool = False,
                               dry: bool = False) -> EarlierTasks:
    """Settle the recorded tasks of this Sentry and organization and drop the ended ones.
    `once` polls each once (a daemon's cycle: the next cycle polls again); `dry` (plan)
    also changes nothing. Raises DexterError when the record is unusable."""
    earlier = EarlierTasks()
    tasks = record.tasks(organization)
    polled = await asyncio.gather(*(_poll(facade, task, wait, once or dry) for task in tasks))
    for task, (settled, detail) in zip(tasks, polled):
        where = f"{task.address}: "
        if settled == "pending":
            earlier.held[task.address] = _held(task, detail)
            earlier.notes.append(where + (
                f"{_what(task)} may still create this rule ({detail}); apply waits for it "
                "and does not create the rule while it may run" if dry
                else earlier.held[task.address]))
        elif not dry:  # the plan reads an ended task's outcome from Sentry itself
            record.remove(task)
            earlier.notes.append(where + _ended(task, settled, detail))
    return earlier
