"""The `dexter` command group and its single error boundary.

Every verb lives in its own module exposing a click command named `command`; `VERBS` lists
them with their one-line help. A verb's module is imported only when that verb runs, so
`dexter --help` and `dexter validate` never load the HTTP client, the planner or the
emulator (start-up matters in pre-commit hooks and CI).

Exit codes (README, Stable interfaces): 0 success, 1 error (usage errors included: exit 2
means "changes present" to `plan --detailed-exitcode`), 2 plan has changes, 3 apply
finished with changes failed or not attempted, 130 interrupted. Every error is printed as
`error: <message> [<code>]` with a code from `core/codes.py`.
"""

from __future__ import annotations

import gc

import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from .. import __version__
from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError
from ..core.escaping import printable
from .options import GlobalOptions, attach_global_flags, configure_logging, current_options

VERBS: dict[str, str] = {
    "init": "Start a manifest tree (commented starter, or exported from Sentry).",
    "validate": "Check the manifests offline; every problem is listed.",
    "schema": "Generate the JSON Schemas and the manifest reference.",
    "plan": "Show what apply would change in Sentry.",
    "apply": "Make Sentry match the manifests, or apply a saved plan.",
    "export": "Write manifests of the live organization.",
    "inspect": "Look at live Sentry objects.",
    "watch": "Stream drift and Sentry events; serve them over HTTP.",
    "releases": "Compare releases: is B a regression of A?",
    "query": "Run a Discover query (declared, saved or ad hoc) and print it.",
    "migrate": "Move legacy alert manifests to alerts and monitors (safe cut-over).",
    "emulator": "Serve the Sentry API emulator on 127.0.0.1.",
    "action": "The GitHub Action's step (action.yml); reads GitHub's environment.",
    "selftest": "Check the Sentry API contract against a live server, in a sandbox.",
}

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def error_line(message: str, code: str) -> str:
    """`error: <first line> [code]` followed by any further lines of the message (control
    characters from names or Sentry's texts shown as escapes: they cannot drive the
    terminal)."""
    first, _, rest = printable(message, keep_newlines=True).partition("\n")
    return f"error: {first} [{code}]" + (f"\n{rest}" if rest else "")


class DexterGroup(click.Group):
    """Loads verbs lazily and maps every exception to a message with its code and an exit
    code; usage errors exit 1, never click's 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in VERBS:
            return None
        command: click.Command = importlib.import_module(f"{__package__}.{cmd_name}").command
        return attach_global_flags(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # from the table, not the modules: `--help` imports no verb
        with formatter.section("Commands"):
            formatter.write_dl(list(VERBS.items()))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except DexterError as error:
            click.echo(error_line(str(error), error.code), err=True)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo(error_line("interrupted", ErrorCode.INTERRUPTED), err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as error:  # the boundary: no traceback for users unless --debug
            if current_options().debug:
                raise
            click.echo(error_line(f"internal error: {type(error).__name__}: {error} "
                                  "(run with --debug for the traceback)",
                                  ErrorCode.INTERNAL_ERROR), err=True)
            ctx.exit(EXIT_ERROR)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except click.UsageError as error:
            if error.ctx is not None:
                click.echo(error.ctx.get_usage(), err=True)
                click.echo(f"Try '{error.ctx.command_path} --help' for help.", err=True)
            click.echo(error_line(error.format_message(), ErrorCode.USAGE), err=True)
            code = EXIT_ERROR
        except click.ClickException as error:
            click.echo(error_line(error.format_message(), ErrorCode.USAGE), err=True)
            code = EXIT_ERROR
        except click.exceptions.Abort:
            click.echo(error_line("aborted", ErrorCode.CANCELLED), err=True)
            code = EXIT_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(cls=DexterGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dexter")
@click.option("--verbose", "-v", is_flag=True, help="Log requests and print gateway metrics.")
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.option("--sentry-url", default=None, metavar="URL",
              help="Sentry base URL (also accepted after the verb).")
@click.option("--org", default=None, metavar="SLUG",
              help="Organization slug (also accepted after the verb).")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, debug: bool, sentry_url: str | None,
        org: str | None) -> None:
    """dexter: Sentry configuration as code (validate, plan, apply, export, watch)."""
    ctx.obj = GlobalOptions(verbose=verbose, debug=debug, sentry_url=sentry_url, org=org)
    configure_logging(ctx.obj)


def main() -> NoReturn:
    # A run builds tens of thousands of long-lived objects (live JSON, entries, changes) and
    # creates few cycles: with the default thresholds the collector re-scans that growing
    # heap over and over (about 0.2 s of a 6,000-object plan; benchmarks/pacing_bench.py).
    gc.set_threshold(50_000, 20, 20)
    cli.main(prog_name="dexter")
    raise AssertionError("unreachable: click's standalone main exits")
