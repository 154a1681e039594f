"""The global options, accepted before and after the verb (`dexter -v plan`, `dexter plan -v`).

`-v/--verbose` and `--debug` are attached to every verb by `attach_global_flags`; they set
the run's `GlobalOptions` (found from any context) and reconfigure logging at once.
`--sentry-url` and `--org` live on the group and on every verb that talks to Sentry
(`cli/common.py`); a value given after the verb wins over one given before it.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

import click


@dataclass
class GlobalOptions:
    """Options every verb can read through `current_options()`."""

    verbose: bool = False
    debug: bool = False
    sentry_url: str | None = None
    org: str | None = None
    max_rate_limit_wait: float | None = None
    """`--max-rate-limit-wait` (None: the gateway's default, 60 s)."""


def current_options() -> GlobalOptions:
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(GlobalOptions) if ctx else None
    return found or GlobalOptions()


def configure_logging(options: GlobalOptions) -> None:
    level = logging.DEBUG if options.debug else logging.INFO if options.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)


def _set_flag(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if not value or param.name is None:
        return
    options = ctx.find_object(GlobalOptions)
    if options is None:
        options = ctx.ensure_object(GlobalOptions)
    setattr(options, param.name, True)
    configure_logging(options)


def global_flags() -> list[click.Parameter]:
    """Fresh `-v/--verbose` and `--debug` options (one set per command)."""
    return [
        click.Option(["--verbose", "-v"], is_flag=True, expose_value=False, callback=_set_flag,
                     help="Log requests and print gateway metrics."),
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_flag,
                     help="Show tracebacks for internal errors."),
    ]


def attach_global_flags(command: click.Command) -> click.Command:
    """Give `command` (and the subcommands of a group) the global flags, once."""
    names = {name for param in command.params for name in getattr(param, "opts", [])}
    if "--debug" not in names:
        command.params.extend(global_flags())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            attach_global_flags(sub)
    return command
