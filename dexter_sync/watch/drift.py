"""Drift: the plan's changes, as events once per change of state.

A change (create / update / delete) that the last cycle did not have, or whose field diff
differs, is `drift.detected` (with the diff, the manifest file:line and, from the audit
log, who changed the object and when); a change that is gone is `drift.resolved`.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.changes import Action, Plan, ResourceChange
from ..render.jsonplan import plan_document
from ..render.view import build_view
from . import attribution
from .events import WatchEvent
from .tracker import ChangeTracker


def drift_changes(plan: Plan) -> dict[str, dict[str, Any]]:
    """`kind/key` -> the change as `dexter plan --format json` shows it, plus its live id."""
    live: dict[tuple[str, str], ResourceChange] = {
        (c.kind, c.key): c for c in plan.changes if c.action is not Action.NOOP}
    found: dict[str, dict[str, Any]] = {}
    for entry in plan_document(build_view(plan))["changes"]:
        change = live.get((entry["kind"], entry["key"]))
        if change is None:
            continue
        found[f"{entry['kind']}/{entry['key']}"] = {
            "action": str(entry["action"]), "kind": entry["kind"], "key": entry["key"],
            "diff": entry["diff"], "file": entry["file"], "project": entry["project"],
            "live_id": change.live_id}
    return found


def _signature(change: dict[str, Any]) -> str:
    return json.dumps([change["action"], change["diff"]], sort_keys=True, default=str)


class DriftWatcher:
    def __init__(self, organization: str, audit: attribution.AuditLog) -> None:
        self.organization = organization
        self.audit = audit
        self.tracker: ChangeTracker[str] = ChangeTracker()
        self.current: dict[str, dict[str, Any]] = {}

    @property
    def count(self) -> int:
        return len(self.current)

    async def events(self, plan: Plan) -> list[WatchEvent]:
        changes = drift_changes(plan)
        delta = self.tracker.update({k: _signature(c) for k, c in changes.items()})
        previous, self.current = self.current, changes
        fresh = delta.appeared + delta.changed
        rows = await self.audit.rows() if fresh else []
        out: list[WatchEvent] = []
        for address in fresh:
            change = changes[address]
            # project-scoped keys are `project/name`; the audit log names the object only
            name = change["key"].split("/", 1)[-1] if change["project"] else change["key"]
            who = attribution.find(rows, live_id=change["live_id"], name=name)
            out.append(WatchEvent("drift.detected", self.organization, change["kind"],
                                  change["key"], {**change, "changed_by": who.changed_by,
                                                  "changed_at": who.changed_at}))
        for address in delta.gone:
            old = previous[address]
            out.append(WatchEvent("drift.resolved", self.organization, old["kind"], old["key"],
                                  {"action": old["action"], "project": old["project"],
                                   "file": old["file"]}))
        return out
