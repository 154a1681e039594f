"""Markdown of a plan for a pull-request comment: summary table, one `<details>` per change.

GitHub refuses comments over 65,536 characters. Changes are added while they fit a budget;
the rest is summarized by action, so a plan of any size gives one valid comment.
"""

from __future__ import annotations

from collections import Counter

import jinja2

from ..core.changes import Plan
from .escaping import markdown_inline, printable
from .jinja import environment
from .view import ChangeView, PlanView, build_view

COMMENT_LIMIT = 65_536
BLOCK_LIMIT = 6_000
"""One change's block is cut to this size, so one huge object cannot crowd out the rest."""
MAX_NOTES = 200


def _html(text: str) -> str:
    """A value in a markdown line or an HTML tag: one line, markdown and HTML neutralized."""
    return markdown_inline(text)


def _code(text: str) -> str:
    # inside a fenced block markdown is inert; a value must only not close the block
    return printable(text).replace("```", "`\u200b``")


def _block(text: str, symbol: str) -> str:
    """A multi-line value inside a ```diff block: every line keeps the change's symbol."""
    lines = printable(text, keep_newlines=True).replace("```", "`\u200b``").split("\n")
    return f"\n{symbol}   ".join(lines)


def _cell(text: str) -> str:
    return markdown_inline(text)


def _env() -> jinja2.Environment:
    env = environment()
    env.filters.setdefault("html", _html)
    env.filters.setdefault("code", _code)
    env.filters.setdefault("cell", _cell)
    env.filters.setdefault("block", _block)
    return env


def _rows(view: PlanView) -> list[tuple[str, dict[str, int]]]:
    rows: dict[str, dict[str, int]] = {}
    blank = {"create": 0, "update": 0, "delete": 0, "unchanged": 0, "unmanaged": 0,
             "ambiguous": 0}
    for change in view.changes:
        row = rows.setdefault(change.kind, dict(blank))
        row[change.action] += 1
    for kind, count in view.unchanged_by_kind.items():
        rows.setdefault(kind, dict(blank))["unchanged"] = count
    for note in view.notes:
        row = rows.setdefault(note.kind, dict(blank))
        if note.reason in row:
            row[note.reason] += 1
    return list(rows.items())


def _change_block(env: jinja2.Environment, change: ChangeView) -> str:
    text = env.get_template("change.md.j2").render(ch=change)
    if len(text) <= BLOCK_LIMIT:
        return text
    cut = text[: BLOCK_LIMIT - 200].rsplit("\n", 1)[0]
    return cut + "\n... (cut: this change is too large for a comment)\n```\n\n</details>\n"


def format_markdown(view: PlanView, *, limit: int = COMMENT_LIMIT) -> str:
    env = _env()
    head = env.get_template("plan_head.md.j2").render(view=view, rows=_rows(view))
    notes = view.notes[:MAX_NOTES]
    tail_args = {"notes": notes, "notes_omitted": len(view.notes) - len(notes), "limit": limit}
    # reserve room for the longest possible tail before choosing which blocks fit
    worst_tail = env.get_template("plan_tail.md.j2").render(
        omitted={"create": 10**6, "update": 10**6, "delete": 10**6}, omitted_total=10**7,
        **tail_args)
    budget = limit - len(head) - len(worst_tail) - 16
    blocks: list[str] = []
    used = 0
    omitted: Counter[str] = Counter()
    for change in view.changes:
        block = _change_block(env, change) if not omitted else ""
        if not omitted and used + len(block) <= budget:
            blocks.append(block)
            used += len(block)
        else:
            omitted[change.action] += 1
    tail = env.get_template("plan_tail.md.j2").render(
        omitted=dict(sorted(omitted.items())), omitted_total=sum(omitted.values()), **tail_args)
    return head + "".join(blocks) + tail


def render_markdown(plan: Plan, *, limit: int = COMMENT_LIMIT) -> str:
    return format_markdown(build_view(plan), limit=limit)
