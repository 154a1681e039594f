"""The plan as stable JSON (DESIGN.md "Stable interfaces", format_version 1).

    {"format_version": 1, "organization": "acme",
     "summary": {"create": 1, "update": 1, "delete": 0, "unchanged": 7, "unmanaged": 2,
                 "ambiguous": 0},                  # + "immutable": n when some exist
     "changes": [{"action": "update", "kind": "metric_alert", "key": "Errors",
                  "before": {...}, "after": {...},  # canonical forms, manifest field names
                  "diff": [{"path": "triggers.critical.threshold", "before": 100,
                            "after": 90, "file": "alerts.yaml:12:9"}],
                  "project": null, "file": "alerts.yaml:3:5"}],
     "notes": [{"reason": "unmanaged", "kind": ..., "key": ..., "live_ids": [...],
                "project": ...}],
     "safety": [{"code": "too-many-deletes", "kind": ..., "key": null, "message": ...}],
     "cosmetic": {"order": 3, "type": 2}}

Keys of format 1 are never renamed or removed; new keys may be added (`file`, `project`,
`notes`, `safety`, `cosmetic` are such additions). `before` is null for a create, `after`
for a delete. Output is deterministic: the same plan gives the same bytes. Saved plans
(planfile.py) hold this object plus what apply needs.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.changes import Plan
from .view import PlanView, build_view

FORMAT_VERSION = 1


def plan_document(view: PlanView) -> dict[str, Any]:
    """The JSON object of one plan."""
    return {
        "format_version": FORMAT_VERSION,
        "organization": view.organization,
        "summary": dict(view.summary),
        "changes": [
            {
                "action": c.action,
                "kind": c.kind,
                "key": c.key,
                "before": c.before,
                "after": c.after,
                "diff": [{"path": d.path, "before": d.before, "after": d.after, "file": d.where}
                         for d in c.diff],
                "project": c.project,
                "file": c.where,
            }
            for c in view.changes
        ],
        "notes": [
            {"reason": n.reason, "kind": n.kind, "key": n.key, "live_ids": n.live_ids,
             "project": n.project}
            for n in view.notes
        ],
        "safety": [
            {"code": f.code, "kind": f.kind, "key": f.key, "message": f.message}
            for f in view.safety
        ],
        "cosmetic": dict(view.cosmetic),
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def render_json(plan: Plan) -> str:
    return dumps(plan_document(build_view(plan)))
