"""Rule tasks an earlier apply left pending (pending.py), settled before a plan is made.

An apply killed while it polled a Slack rule task leaves the task in the record, and Sentry
may still be creating the rule. Before it plans, apply polls each such task of its Sentry
and organization until the task ends, at most until `--task-wait` has passed since the task
started (one poll at least):

- success: the rule exists, and the plan reads it (it is not created again);
- failed: said so; the rule is missing, and the plan creates it;
- still pending (or unreadable): the create of that key is held back, reported not
  attempted (`earlier-task-pending`, exit 3), and the entry stays for the next run.

An ended task's entry is dropped. Sentry keeps a task's status for an hour, then answers
"pending" for a uuid it no longer knows (RedisRuleStatus: `ex=60*60`, `nx=True`): an older
entry is dropped unpolled, since its task ended long ago and the plan reads whether the rule
exists. So is an entry whose task Sentry answers 404 for. `dexter plan` polls once and says
which creates apply would hold back; it changes nothing.
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

STATUS_LIFETIME = 3600.0
"""Seconds Sentry keeps a rule task's status."""

Settled = Literal["success", "failed", "forgotten", "pending"]


@dataclass
class EarlierTasks:
    held: dict[str, str] = field(default_factory=dict)
    """Address -> why its create must not be sent in this run."""
    notes: list[str] = field(default_factory=list)
    """One line per recorded task, for stderr."""


async def _poll(facade: WriteFacade, task: PendingTask, wait: float) -> tuple[Settled, str]:
    age = time.time() - task.started
    if age >= STATUS_LIFETIME:
        return "forgotten", "Sentry keeps a task's status for an hour"
    try:
        await facade.poll_task(task.project, task.uuid, kind=task.kind,
                               timeout=max(0.0, wait - age))
    except SentryError as error:
        if error.code == "task-failed":
            return "failed", str(error)
        if error.code == "sentry-not-found":
            return "forgotten", str(error)
        if error.code == "task-pending":
            return "pending", "is still pending"
        return "pending", f"could not be read ({error})"
    return "success", ""


def _still_running(task: PendingTask, state: str) -> str:
    age = format_seconds(max(0.0, time.time() - task.started))
    return f"the Slack rule task {task.uuid} an earlier apply started {age} ago {state}"


def _held(task: PendingTask, state: str) -> str:
    return (f"{_still_running(task, state)}, and may still create this rule: not created, so "
            "that it is not doubled; run apply again once the task has ended "
            f"[{ErrorCode.EARLIER_TASK_PENDING}]")


async def settle_earlier_tasks(facade: WriteFacade, record: PendingTaskRecord,
                               organization: str, *, wait: float,
                               look_only: bool = False) -> EarlierTasks:
    """Poll the recorded tasks of this Sentry and organization; drop the ended ones (not
    with `look_only`, which polls once). Raises DexterError when the record is unusable."""
    earlier = EarlierTasks()
    tasks = record.tasks(organization)
    polled = await asyncio.gather(*(_poll(facade, task, 0.0 if look_only else wait)
                                    for task in tasks))
    for task, (settled, detail) in zip(tasks, polled):
        where = f"{task.address}: "
        if settled == "pending":
            earlier.held[task.address] = _held(task, detail)
            earlier.notes.append(where + (f"{_still_running(task, detail)}; apply waits for "
                                          "it and does not create this rule while it runs"
                                          if look_only else earlier.held[task.address]))
            continue
        if look_only:
            continue  # the plan reads the outcome from Sentry itself
        record.remove(task)
        if settled == "success":
            earlier.notes.append(f"{where}the Slack rule task {task.uuid} an earlier apply "
                                 "left pending has succeeded: the rule exists")
        elif settled == "failed":
            earlier.notes.append(f"{where}the Slack rule task {task.uuid} an earlier apply "
                                 f"left pending failed ({detail}); the rule is planned afresh")
        else:
            earlier.notes.append(f"{where}Sentry no longer knows the task {task.uuid} an "
                                 f"earlier apply left pending ({detail}); the plan reads "
                                 "whether the rule exists")
    return earlier
