"""Slack channel-lookup tasks: rules answered `202 {"uuid"}` are created (or updated) when
their task completes — on the first poll after `quirks.slack_task_delay` seconds, or on poll
number `quirks.slack_task_polls`, whichever comes first."""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from ..api import ApiError
from ..config import QuirkSettings
from ..store import Store

# kind -> function(store, org, task) completing the task's write; returns the rule record
Completer = Callable[[Store, dict[str, Any], dict[str, Any]], dict[str, Any]]


def start_task(store: Store, org: dict[str, Any], *, kind: str, project_id: int | None, op: str,
               payload: dict[str, Any]) -> str:
    task_uuid = uuidlib.uuid4().hex
    store.insert("task", org["id"], {"uuid": task_uuid, "kind": kind, "projectId": project_id,
                                     "op": op, "payload": payload, "started": time.time(),
                                     "polls": 0, "status": "pending", "ruleId": None,
                                     "error": None})
    return task_uuid


def poll_task(store: Store, org: dict[str, Any], task_uuid: str, kind: str, project_id: int,
              quirks: QuirkSettings, complete: Completer) -> dict[str, Any] | None:
    """Advance the task one poll; returns the task record (None when unknown)."""
    tasks = store.find("task", org["id"], uuid=task_uuid)
    if not tasks or tasks[0]["kind"] != kind or tasks[0]["projectId"] not in (None, project_id):
        return None
    task = tasks[0]
    if task["status"] == "pending":
        task["polls"] += 1
        due = (time.time() - task["started"] >= quirks.slack_task_delay
               or task["polls"] >= max(quirks.slack_task_polls, 1))
        if due:
            try:
                rule = complete(store, org, task)
                task["status"], task["ruleId"] = "success", rule["id"]
            except ApiError as error:
                task["status"] = "failed"
                body = error.body
                task["error"] = _first_message(body)
        store.put("task", task)
    return task


def _first_message(body: Any) -> str:
    if isinstance(body, dict):
        for value in body.values():
            return _first_message(value)
    if isinstance(body, list) and body:
        return _first_message(body[0])
    return str(body)
