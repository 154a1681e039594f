"""Terminal text of a plan: `+ create`, `~ update` with field diffs, `- delete`, notes, safety.

Colour only when asked (the CLI asks on a terminal without NO_COLOR: `use_colour`). Every
value is shown with its control characters escaped (`escaping`), so a name cannot forge a
line of the plan or drive the terminal.
"""

from __future__ import annotations

import os
from typing import IO

import click

from ..core.changes import Plan
from ..core.escaping import Shown, printable
from .jinja import text_template
from .view import PlanView, build_view

COLOURS = {"create": "green", "update": "yellow", "delete": "red", "no-op": "white"}
NOTE_TEXT = {
    "unmanaged": "live but not declared (add `prune:` to delete such objects)",
    "ambiguous": "several live objects share this key; dexter never touches them",
    "immutable": "differs from the manifest, but Sentry cannot update this kind in place",
}


def use_colour(stream: IO[str]) -> bool:
    """Colour on a terminal, never when piped or when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def cosmetic_line(view: PlanView) -> str:
    """`256 cosmetic differences suppressed: order 3, type 30` (for -v and --explain)."""
    total = view.cosmetic_total
    classes = ", ".join(f"{cls} {n}" for cls, n in view.cosmetic.items())
    return (f"{total} cosmetic difference{'s' if total != 1 else ''} suppressed"
            + (f": {classes}" if classes else ""))


def format_text(view: PlanView, *, colour: bool = False, explain: bool = False,
                detailed: bool = True, verbose: bool = False) -> str:
    """The plan as text. One summary line; the cosmetic tally only with `verbose` or
    `explain` (on a quiet plan it would read like a warning)."""
    def c(text: str, style: str) -> Shown:
        text = printable(text)
        if not colour:
            return Shown(text)
        return Shown(click.style(text, bold=True) if style == "bold"
                     else click.style(text, fg=style))

    return text_template("plan.txt.j2").render(
        view=view, c=c, colours=COLOURS, note_text=NOTE_TEXT, explain=explain,
        detailed=detailed, show_cosmetic=(verbose or explain) and view.cosmetic_total > 0,
        cosmetic_line=cosmetic_line(view),
    )


def render_text(plan: Plan, *, colour: bool = False, explain: bool = False,
                verbose: bool = False) -> str:
    return format_text(build_view(plan), colour=colour, explain=explain, verbose=verbose)
