"""Slack channel-lookup tasks: rules answered `202 {"uuid"}` are created (or updated) when
their task completes.

Sentry runs the task in the background: it ends whether or not anyone polls it. So a task
is due `quirks.slack_task_delay` seconds after it started, and every API request first
finishes the tasks that are due (`DueTasks`), before its handler reads anything: a listing
shows the rule a finished task created, as Sentry's would. A poll also finishes the task on
poll number `quirks.slack_task_polls` (tests that step a task without a clock).
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from ..api import ApiError
from ..config import QuirkSettings
from ..store import Store

# function(store, org, task) completing the task's write; returns the rule record
Completer = Callable[[Store, dict[str, Any], dict[str, Any]], dict[str, Any]]

COMPLETERS: dict[str, Completer] = {}
"""Task kind ("metric", "issue") -> its completer; each rule route module registers one."""


def start_task(store: Store, org: dict[str, Any], *, kind: str, project_id: int | None, op: str,
               payload: dict[str, Any]) -> str:
    task_uuid = uuidlib.uuid4().hex
    store.insert("task", org["id"], {"uuid": task_uuid, "kind": kind, "projectId": project_id,
                                     "orgId": org["id"], "op": op, "payload": payload,
                                     "started": time.time(), "polls": 0, "status": "pending",
                                     "ruleId": None, "error": None})
    return task_uuid


def _finish(store: Store, org: dict[str, Any], task: dict[str, Any]) -> None:
    """Run the task's write: success with the rule's id, or failed with Sentry's text."""
    try:
        rule = COMPLETERS[task["kind"]](store, org, task)
        task["status"], task["ruleId"] = "success", rule["id"]
    except ApiError as error:
        task["status"] = "failed"
        task["error"] = _first_message(error.body)


def poll_task(store: Store, org: dict[str, Any], task_uuid: str, kind: str, project_id: int,
              quirks: QuirkSettings) -> dict[str, Any] | None:
    """Advance the task one poll; returns the task record (None when unknown)."""
    tasks = store.find("task", org["id"], uuid=task_uuid)
    if not tasks or tasks[0]["kind"] != kind or tasks[0]["projectId"] not in (None, project_id):
        return None
    task = tasks[0]
    if task["status"] == "pending":
        task["polls"] += 1
        if (time.time() - task["started"] >= quirks.slack_task_delay
                or task["polls"] >= max(quirks.slack_task_polls, 1)):
            _finish(store, org, task)
        store.put("task", task)
    return task


class DueTasks:
    """Finishes the tasks whose time has come, as Sentry's workers would have by now.

    Called before every API request, so it is cheap when nothing is due: the earliest start
    of a pending task is remembered until a task is written again (the store's generation).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._generation: tuple[int, int] | None = None
        self._earliest: float | None = None  # start of the oldest pending task

    def finish_due(self, quirks: QuirkSettings) -> None:
        """Finish every pending task started `slack_task_delay` seconds ago or earlier."""
        now = time.time()
        if self.store.generation("task") == self._generation:
            if self._earliest is None or now - self._earliest < quirks.slack_task_delay:
                return
        pending = [t for t in self.store.query("task") if t["status"] == "pending"]
        for task in pending:
            org = self.store.get("org", task.get("orgId", ""))
            if org is None or now - task["started"] < quirks.slack_task_delay:
                continue  # not due yet (or a record from before tasks knew their org)
            _finish(self.store, org, task)
            self.store.put("task", task)
        waiting = [t["started"] for t in pending
                   if t["status"] == "pending" and "orgId" in t]
        self._earliest = min(waiting, default=None)
        self._generation = self.store.generation("task")


def _first_message(body: Any) -> str:
    if isinstance(body, dict):
        for value in body.values():
            return _first_message(value)
    if isinstance(body, list) and body:
        return _first_message(body[0])
    return str(body)
