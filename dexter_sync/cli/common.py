"""CLI helpers shared by the verbs that talk to Sentry (plan, apply, export, inspect).

    @click.command()
    @sentry_options
    def command(sentry_url, org, concurrency): ...
        run(main(...))  # inside: async with connect(sentry_url=..., organization=...) as facade

`connect` opens the facade with the global `--verbose` flag, prints the "using the local
Sentry emulator" notice and, with `--verbose`, the gateway metrics summary, all on stderr.
The sentry package (httpx, tenacity) is imported by `connect` only: a verb that never talks
to Sentry (`validate` without `--online`) does not pay for it at start-up.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import yaml
from click.core import ParameterSource

from ..core.diagnostics import DexterError
from ..core.state import DesiredState
from .options import GlobalOptions, current_options

if TYPE_CHECKING:
    from ..sentry.facade import SentryFacade

T = TypeVar("T")
URL_ENV = "SENTRY_URL"  # read by sentry.connect too (a test keeps the two equal)
ORG_ENV = "SENTRY_ORG"
WAIT_ENV = "DEXTER_MAX_RATE_LIMIT_WAIT"
DEFAULT_CONCURRENCY = 16
DEFAULT_MAX_WAIT = 60.0  # sentry.ratelimit.MAX_WAIT (a test keeps the two equal)


def _or_global(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A value typed after the verb wins; else the one typed before it (`dexter --org x
    plan`); else the environment variable's."""
    if param.name is None or ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
        return value
    before = getattr(current_options(), param.name, None)
    return before if before is not None else value


def _keep_wait_cap(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    if value is not None:
        ctx.ensure_object(GlobalOptions).max_rate_limit_wait = value


def sentry_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Adds `--sentry-url` (SENTRY_URL), `--org` (SENTRY_ORG), `--concurrency` and
    `--max-rate-limit-wait` (DEXTER_MAX_RATE_LIMIT_WAIT); the first two are global options
    too (`cli/options.py`), the last is kept in the run's GlobalOptions for `connect`."""
    func = click.option("--max-rate-limit-wait", type=click.FloatRange(0, 86400),
                        envvar=WAIT_ENV, default=None, expose_value=False,
                        callback=_keep_wait_cap, metavar="SECONDS",
                        help=f"Longest single wait for Sentry's rate limit (env {WAIT_ENV}; "
                             f"default {DEFAULT_MAX_WAIT:g}); a longer one fails with `rate-limited`."
                        )(func)
    func = click.option("--concurrency", type=click.IntRange(1, 256),
                        default=DEFAULT_CONCURRENCY, show_default=True,
                        help="Most requests in flight at once.")(func)
    func = click.option("--org", "org", envvar=ORG_ENV, default=None, callback=_or_global,
                        help=f"Organization slug (env {ORG_ENV}; else `organization:` in "
                             "dexter.yaml).")(func)
    func = click.option("--sentry-url", envvar=URL_ENV, default=None, callback=_or_global,
                        help=f"Sentry base URL, e.g. https://sentry.io (env {URL_ENV}; unset: "
                             "the local emulator in .dexter/).")(func)
    return func


def global_options() -> GlobalOptions:
    return current_options()


def resolve_org(option: str | None, settings_org: str | None = None) -> str:
    """`--org` / SENTRY_ORG, else the manifests' `organization:`; an error when neither."""
    org = option or settings_org or os.environ.get(ORG_ENV)
    if not org:
        raise DexterError("no organization: pass --org SLUG, set SENTRY_ORG, or set "
                          "`organization:` in dexter.yaml", code="missing-organization")
    return org


def local_settings_org(directory: Path = Path(".")) -> str | None:
    """`organization:` of `./dexter.yaml`, for verbs that need no manifests (export, inspect).
    Unreadable or templated settings give None: the verb then asks for --org."""
    settings = directory / "dexter.yaml"
    try:
        if not settings.is_file() or settings.stat().st_size > 1024 * 1024:
            return None
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    org = data.get("organization") if isinstance(data, dict) else None
    return org if isinstance(org, str) and org and "{" not in org else None


def notice(message: str) -> None:
    click.echo(message, err=True)


@asynccontextmanager
async def connect(*, sentry_url: str | None, organization: str,
                  desired: DesiredState | None = None,
                  concurrency: int = DEFAULT_CONCURRENCY) -> AsyncIterator[SentryFacade]:
    """`open_facade` with the CLI's notices and the global `--verbose` flag."""
    from ..sentry.connect import open_facade  # late: see the module's docstring
    from ..sentry.gateway import GatewaySettings
    from .embedded import open_embedded

    options = global_options()
    wait = options.max_rate_limit_wait
    settings = GatewaySettings(concurrency=concurrency, max_rate_limit_wait=(
        DEFAULT_MAX_WAIT if wait is None else wait))
    async with open_facade(sentry_url=sentry_url, organization=organization, desired=desired,
                           concurrency=concurrency, verbose=options.verbose,
                           settings=settings, notify=notice, embedded=open_embedded) as facade:
        yield facade


def run(coroutine: Awaitable[T]) -> T:
    """Run a verb's async body to completion (one event loop per command).

    The result leaves through a box, not as the main task's result: on its way out,
    `asyncio.run` looks up the SIGINT handler it installed, and `signal.getsignal` formats
    that handler's repr, the task and its result included. A plan of 6,000 changes took
    a fifth of a second to format, after the last request, for nothing."""
    import asyncio  # late: `validate` without --online never runs a loop (start-up)

    box: list[T] = []

    async def body() -> None:
        box.append(await coroutine)

    asyncio.run(body())
    return box[0]
