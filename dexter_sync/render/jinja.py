"""The jinja2 environment of the plan formatters (templates in `templates/`)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from ..core.escaping import Shown, printable, shown


def _environment(**options: Any) -> jinja2.Environment:
    # Plain text and markdown, not HTML: no autoescape; each format escapes its own way.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dexter_sync.render", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        **options,
    )


@cache
def environment() -> jinja2.Environment:
    return _environment()


@cache
def text_environment() -> jinja2.Environment:
    """For terminal text: every interpolated value has its control characters escaped
    (`escaping.shown`), except text a formatter already escaped (`escaping.Shown`)."""
    env = _environment(finalize=shown)
    env.filters["shown_block"] = lambda text: Shown(printable(text, keep_newlines=True))
    return env


def template(name: str) -> jinja2.Template:
    return environment().get_template(name)


def text_template(name: str) -> jinja2.Template:
    return text_environment().get_template(name)
