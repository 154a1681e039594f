"""The selftest's output: one line per check (text) or one JSON object (stable interface).

    {"checks": [{"name", "kind", "status": "pass"|"fail"|"skip", "detail"}],
     "summary": {"pass", "fail", "skip", "total", "run_id", "organization", "read_only",
                 "swept"}}
"""

from __future__ import annotations

import json
from typing import Any

from .results import summarize
from .runner import SelftestRun

LABEL = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}


def report_dict(run: SelftestRun) -> dict[str, Any]:
    return {"checks": [r.as_dict() for r in run.results],
            "summary": {**summarize(run.results), "run_id": run.run_id,
                        "organization": run.organization, "read_only": run.read_only,
                        "swept": run.swept}}


def render_json(run: SelftestRun) -> str:
    return json.dumps(report_dict(run), indent=2) + "\n"


def render_text(run: SelftestRun) -> str:
    lines = []
    for r in run.results:
        lines.append(f"{LABEL[r.status]}  {r.kind or '-':<20} {r.name:<24} {r.detail}"
                     if r.status != "fail" else
                     f"{LABEL[r.status]}  {r.kind or '-':<20} {r.name}\n      {r.detail}")
    counts = summarize(run.results)
    mode = " (read-only)" if run.read_only else ""
    lines.append(f"selftest of {run.organization}{mode}, run {run.run_id}: {counts['pass']} "
                 f"passed, {counts['fail']} failed, {counts['skip']} skipped")
    return "\n".join(lines) + "\n"
