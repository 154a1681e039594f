"""The jinja2 environment of the plan formatters (templates in `templates/`)."""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment() -> jinja2.Environment:
    # Plain text and markdown, not HTML: no autoescape; markdown escapes with its own filter.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("dexter_sync.render", "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def template(name: str) -> jinja2.Template:
    return environment().get_template(name)
