"""Opening a SentryFacade: the target (a URL, or an embedded Sentry the caller supplies),
the token, the gateway settings, and the end-of-run metrics summary.

    async with open_facade(sentry_url=url, organization="acme", desired=desired) as facade:
        live = await facade.read_state(["metric_alert"])

The token comes only from SENTRY_AUTH_TOKEN. With no URL, `embedded` (the CLI passes its
emulator, `dexter_sync.cli.embedded.open_embedded`) serves in process. Notices (the embedded
target, what it seeded, the `--verbose` summary) go to `notify`, stderr by default.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import httpx

from ..core.diagnostics import DexterError
from ..core.state import DesiredState
from .client import SentryClient
from .facade import SentryFacade
from .gateway import Gateway, GatewaySettings
from .redaction import install_log_redaction, register_secret

log = logging.getLogger(__name__)

TOKEN_ENV = "SENTRY_AUTH_TOKEN"
URL_ENV = "SENTRY_URL"
EMBEDDED_TOKEN = "local-emulator-token"
BASE_URL = "http://local-sentry.invalid"
"""The embedded target's URL: never resolved, requests go through its in-process transport."""


@dataclass(frozen=True)
class EmbeddedSentry:
    """A Sentry served in process (the CLI's emulator), opened for one run."""

    transport: httpx.AsyncBaseTransport
    close: Callable[[], None]
    notice: str
    """Said on every run, so nobody mistakes it for a real Sentry."""
    report: list[str]
    """Lines saying what the first use created (empty on later runs)."""


EmbeddedTarget = Callable[[str, DesiredState | None], EmbeddedSentry]
"""(organization, desired) -> the embedded Sentry to use when no URL is set."""


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")


@asynccontextmanager
async def open_facade(*, sentry_url: str | None, organization: str,
                      desired: DesiredState | None = None, concurrency: int = 16,
                      verbose: bool = False, settings: GatewaySettings | None = None,
                      notify: Callable[[str], None] | None = None,
                      embedded: EmbeddedTarget | None = None,
                      ) -> AsyncIterator[SentryFacade]:
    """A facade for one organization; closes the connection (and prints the `--verbose`
    summary) on exit. `sentry_url` None falls back to SENTRY_URL, then to `embedded`."""
    say = notify or _stderr
    token = os.environ.get(TOKEN_ENV) or None
    register_secret(token)
    install_log_redaction()
    url = sentry_url if sentry_url else (os.environ.get(URL_ENV) or None)
    settings = settings or GatewaySettings(concurrency=concurrency)
    local: EmbeddedSentry | None = None
    if url is None:
        if embedded is None:
            raise DexterError(f"{URL_ENV} is not set: pass --sentry-url or set {URL_ENV}",
                              code="missing-sentry-url")
        # In process, no limits enforced: pacing by the announced defaults only slows it.
        settings = replace(settings, pace_by_headers=False)
        local = embedded(organization, desired)
        say(local.notice)
        if local.report:
            say("first use: created what the manifests name in the local emulator "
                "(`dexter emulator --reset` starts over)")
            for line in local.report:
                say(line)
        client = SentryClient(base_url=BASE_URL, token=token or EMBEDDED_TOKEN,
                              transport=local.transport)
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
        if local is not None:
            local.close()

