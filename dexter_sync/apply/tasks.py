"""Sentry's asynchronous rule writes: a POST/PUT answered 202 `{"uuid"}` (Slack channel lookup).

The rule exists only once the task succeeds, so the change is reported applied only then; a
task that fails carries Sentry's error; one still pending when the facade's bounded polling
gives up is a failure ("still pending"), never "applied". The POST is never re-sent: the
task may still create the rule.

When the answer itself is lost, the task may be running unseen: Sentry finishes it in the
background, seconds or minutes later. So after a lost answer to a write the kind says may
start a task, apply looks for the rule until it appears or `TaskLimits.wait` has passed
(creating.py), and only then may send the write again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from ..core.changes import ResourceChange
from ..sentry.errors import SentryError
from .ports import WriteFacade

TaskState = Literal["success", "failed", "pending"]

TASK_TIMEOUT = 60.0
"""Seconds a rule task may stay pending before the change is reported failed."""

TASK_WAIT = 240.0
"""Seconds to look for a rule, after a lost answer to a write that may have started a task,
before the write may be sent again. Sentry's task gives its Slack channel look-up 3 minutes
(`get_channel_id`, async look-up timeout); the last minute is for the task queue."""

TASK_WAIT_ENV = "DEXTER_TASK_WAIT"


@dataclass(frozen=True)
class TaskLimits:
    """How long apply follows Sentry's rule tasks."""

    timeout: float = TASK_TIMEOUT
    """Polling a task whose 202 came back."""
    wait: float = TASK_WAIT
    """Looking for the rule of a task whose 202 may have been lost."""


DEFAULT_LIMITS = TaskLimits()


@dataclass(frozen=True)
class TaskResult:
    state: TaskState
    live_id: str | None = None
    error: str | None = None


def task_uuid(status: int, body: Any) -> str | None:
    """The task uuid of a 202 `{"uuid": ...}` answer, else None."""
    if status == 202 and isinstance(body, dict) and isinstance(body.get("uuid"), str):
        return cast("str | None", body["uuid"])
    return None


def task_project(change: ResourceChange) -> str | None:
    """The project whose task endpoint reports on this rule (metric alerts: their first one)."""
    if change.project:
        return change.project
    projects = (change.payload or {}).get("projects") or []
    return str(projects[0]) if projects else None


def _field(result: Any, name: str) -> Any:
    return result.get(name) if isinstance(result, dict) else getattr(result, name, None)


def interpret(result: Any) -> TaskResult:
    """Read the task endpoint's `{"status", "rule", "error"}` answer (dict or object)."""
    state = str(_field(result, "status") or "pending").lower()
    rule = _field(result, "rule")
    live_id = _field(rule, "id") if rule is not None else None
    if state == "success":
        return TaskResult("success", str(live_id) if live_id is not None else None)
    if state == "failed":
        return TaskResult("failed", error=str(_field(result, "error") or "rule task failed"))
    return TaskResult("pending")


async def follow_task(facade: WriteFacade, change: ResourceChange, uuid: str, *,
                      limits: TaskLimits = DEFAULT_LIMITS) -> TaskResult:
    project = task_project(change)
    if project is None:
        return TaskResult("failed", error=f"Sentry answered 202 (task {uuid}) but the rule "
                                          "names no project whose task endpoint to poll")
    try:
        result = await facade.poll_task(project, uuid, kind=change.kind,
                                        timeout=limits.timeout)
    except SentryError as error:  # a failed or unfinished task: never reported applied
        code = getattr(error, "code", "")
        if code in ("task-failed", "task-pending"):
            return TaskResult("failed", error=str(error))
        return TaskResult("failed", error=f"could not follow rule task {uuid}: {error}")
    outcome = interpret(result)
    if outcome.state == "pending":
        return TaskResult("failed", error=f"rule task {uuid} still pending; "
                                          "not reported applied (the next plan shows its state)")
    return outcome
