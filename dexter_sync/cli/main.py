"""The `dexter` command group and its single error boundary.

Every verb lives in its own module exposing a click command named `command`; `VERBS` lists
them. A DexterError becomes its message and exit code; any other exception becomes a
one-line "internal error" unless `--debug` asks for the traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass

import click

from .. import __version__
from ..core.diagnostics import DexterError

VERBS = (
    "validate",
    "schema",
    "plan",
    "apply",
    "export",
    "inspect",
    "emulator",
)


@dataclass
class GlobalOptions:
    """Options every verb can read from `click.get_current_context().obj`."""

    verbose: bool = False
    debug: bool = False


class DexterGroup(click.Group):
    """A click group whose `main` maps exceptions to exit codes (pip's _run_wrapper habit)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except DexterError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as error:  # the boundary: no traceback for users unless --debug
            options = ctx.obj if isinstance(ctx.obj, GlobalOptions) else GlobalOptions()
            if options.debug:
                raise
            click.echo(
                f"internal error: {type(error).__name__}: {error} "
                "(run with --debug for the traceback)",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=DexterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dexter")
@click.option("--verbose", "-v", is_flag=True, help="Log requests and print gateway metrics.")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, debug: bool) -> None:
    """dexter: Sentry configuration as code (validate, plan, apply, export)."""
    ctx.obj = GlobalOptions(verbose=verbose, debug=debug)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


for _verb in VERBS:
    cli.add_command(importlib.import_module(f"{__package__}.{_verb}").command)


def main() -> None:
    cli(prog_name="dexter")
