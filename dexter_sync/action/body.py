"""The pull-request comment and the step outputs made from one plan.

The comment opens with a hidden marker naming the organization and manifest path, so the
next run finds and updates its own comment (two dexter jobs in one repository keep two
comments). The markdown renderer already summarizes a plan to fit a limit; it is given
GitHub's 65,536 characters less the marker and footer, so the whole body always fits.
"""

from __future__ import annotations

import json
import re

from ..core.changes import Action, Plan
from ..render.markdown import COMMENT_LIMIT, render_markdown

MARKER_PREFIX = "<!-- dexter-plan "


def _token(text: str) -> str:
    # nothing that could end the HTML comment or differ between runs (spaces, "./")
    return re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._/-]+", "_", text))


def marker(path: str, organization: str | None = None) -> str:
    """`<!-- dexter-plan path=sentry -->` (plus ` org=acme` when the input names one)."""
    where = _token(path.strip().removeprefix("./").rstrip("/") or ".")
    org = f" org={_token(organization)}" if organization else ""
    return f"{MARKER_PREFIX}path={where}{org} -->"


def counts(plan: Plan) -> dict[str, int]:
    return {"create": plan.count(Action.CREATE), "update": plan.count(Action.UPDATE),
            "delete": plan.count(Action.DELETE)}


def plan_checksum(text: str) -> str | None:
    """The `checksum` of a saved plan file's text (None when it has none)."""
    try:
        value = json.loads(text).get("checksum")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def summary_line(numbers: dict[str, int]) -> str:
    """`3 to create, 1 to update, 0 to delete` (the Action's `summary` output)."""
    return ", ".join(f"{numbers.get(a, 0)} to {a}" for a in ("create", "update", "delete"))


def plan_outputs(plan: Plan, plan_file: str) -> dict[str, str]:
    numbers = counts(plan)
    return {"has-changes": "true" if plan.has_changes else "false", "plan-file": plan_file,
            "summary": summary_line(numbers), "to-create": str(numbers["create"]),
            "to-update": str(numbers["update"]), "to-delete": str(numbers["delete"])}


def comment_body(plan: Plan, *, mark: str, commit: str | None = None,
                 run_link: str | None = None, checksum: str | None = None,
                 limit: int = COMMENT_LIMIT) -> str:
    """marker + the markdown plan + a footer naming the commit, the run and the saved
    plan's checksum (the apply job's summary shows the checksum of what it applies, so the
    two can be matched), within `limit`."""
    parts = [f"commit `{commit[:12]}`"] if commit else []
    if run_link:
        parts.append(f"[workflow run]({run_link})")
    saved = f" · saved plan `{checksum}`" if checksum else ""
    footer = (f"\n<sub>dexter plan{' for ' + ' · '.join(parts) if parts else ''}{saved}"
              "</sub>\n")
    head = mark + "\n"
    return head + render_markdown(plan, limit=limit - len(head) - len(footer)) + footer
