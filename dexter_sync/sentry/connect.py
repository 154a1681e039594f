"""Opening a SentryFacade: the target (a URL, or the embedded emulator), the token, the
gateway settings, and the end-of-run metrics summary.

    async with open_facade(sentry_url=None, organization="acme", desired=desired) as facade:
        live = await facade.read_state(["metric_alert"])

The token comes only from SENTRY_AUTH_TOKEN. Notices (the embedded emulator, what it seeded,
the `--verbose` summary) go to `notify`, stderr by default.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from ..core.diagnostics import DexterError
from ..core.state import DesiredState
from .client import SentryClient
from .embedded import BASE_URL, embedded_db_path, open_embedded
from .facade import SentryFacade
from .gateway import Gateway, GatewaySettings
from .redaction import install_log_redaction, register_secret

log = logging.getLogger(__name__)

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
URL_ENV = "SENTRY_URL"
EMBEDDED_TOKEN = "local-emulator-token"


def embedded_notice() -> str:
    """Said on every run that talks to the embedded emulator."""
    return (f"using the local Sentry emulator at {embedded_db_path().as_posix()} "
            f"({URL_ENV} is not set)")


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


@asynccontextmanager
async def open_facade(*, sentry_url: str | None, organization: str,
                      desired: DesiredState | None = None, concurrency: int = 16,
                      verbose: bool = False, settings: GatewaySettings | None = None,
                      notify: Callable[[str], None] | None = None,
                      ) -> AsyncIterator[SentryFacade]:
    """A facade for one organization; closes the connection (and prints the `--verbose`
    summary) on exit. `sentry_url` None falls back to SENTRY_URL, then the embedded emulator."""
    say = notify or _stderr
    token = os.environ.get(TOKEN_ENV) or None
    register_secret(token)
    install_log_redaction()
    url = sentry_url if sentry_url else (os.environ.get(URL_ENV) or None)
    settings = settings or GatewaySettings(concurrency=concurrency)
    app = None
    if url is None:
        # In process, no limits enforced: pacing by the announced defaults only slows it.
        settings = replace(settings, pace_by_headers=False)
        say(embedded_notice())
        transport, app, report = open_embedded(organization, desired)
        if report:
            say("first use: created what the manifests name in the local emulator "
                "(`dexter emulator --reset` starts over)")
            for line in report:
                say(line)
        client = SentryClient(base_url=BASE_URL, token=token or EMBEDDED_TOKEN,
                              transport=transport)
    else:
        if not url.startswith(("http://", "https://")):
            raise DexterError(f"--sentry-url must start with http:// or https://, got {url!r}",
                              code="bad-sentry-url")
        if token is None:
            raise DexterError(f"{TOKEN_ENV} is not set: export a Sentry auth token to talk to "
                              f"{url}", code="missing-token")
        client = SentryClient(base_url=url, token=token)
    facade = SentryFacade(Gateway(client, settings, notify=say), organization)
    try:
        yield facade
    finally:
        if verbose:
            say(facade.metrics_summary())
        await facade.aclose()
        if app is not None:
            app.state.store.close()

