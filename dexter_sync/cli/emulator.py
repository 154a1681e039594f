"""`dexter emulator`: serve the Sentry API emulator on a loopback port.

Prints one JSON line `{"url": ...}` on stdout when ready, logs to stderr, and stops
cleanly (exit 0) on SIGTERM/SIGINT. The token comes from `--token` or SENTRY_AUTH_TOKEN
and is never printed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click
from starlette.applications import Starlette

from ..core.diagnostics import DexterError
from ..emulator import EmulatorConfig, FaultSettings, RateLimitSettings, create_app
from ..emulator.serving import make_server


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=0, type=click.IntRange(0, 65535), show_default=True,
              help="Port to bind (0 picks a free one; the ready line says which).")
@click.option("--db", "db_path", default=":memory:", show_default=True,
              help="SQLite file holding the state (':memory:' keeps nothing).")
@click.option("--token", default=None, help="Accepted Bearer token (default: "
              "SENTRY_AUTH_TOKEN; when neither is set any token is accepted, which is "
              "allowed on a loopback --host only).")
@click.option("--org", "organization", default="acme", show_default=True,
              help="Organization slug to create.")
@click.option("--projects", default="", help="Comma-separated project slugs to create.")
@click.option("--teams", default="", help="Comma-separated team slugs to create.")
@click.option("--environments", default="", help="Comma-separated environments to create.")
@click.option("--rate-limit", default=0, type=click.IntRange(0), help="Requests per window "
              "and endpoint (0: no limit).")
@click.option("--rate-window", default=1, type=click.IntRange(1), show_default=True,
              help="Rate-limit window in seconds.")
@click.option("--concurrency", default=0, type=click.IntRange(0),
              help="Concurrent requests per endpoint (0: no limit).")
@click.option("--latency-ms", default=0, type=click.IntRange(0), help="Added latency.")
@click.option("--jitter-ms", default=0, type=click.IntRange(0), help="Added random latency.")
@click.option("--error-rate", default=0.0, type=click.FloatRange(0, 1),
              help="Share of requests answered 500/502/503.")
@click.option("--reset", is_flag=True,
              help="Delete the emulator's state (--db, else the embedded emulator's: "
                   "DEXTER_EMBEDDED_DB or .dexter/local-sentry.sqlite) and exit; the next "
                   "run starts over.")
@click.option("--seed-from", "seed_from", default=None, type=click.Path(exists=True),
              help="Also create every project, team, member, integration, repository, "
                   "environment and Slack channel the manifests at this path name.")
def command(host: str, port: int, db_path: str, token: str | None, organization: str,
            projects: str, teams: str, environments: str, rate_limit: int, rate_window: int,
            concurrency: int, latency_ms: int, jitter_ms: int, error_rate: float,
            seed_from: str | None, reset: bool) -> None:
    """Serve a local Sentry API emulator (for sentry-cli, sentry-sdk and dexter itself)."""
    if reset:
        _reset(db_path)
        return
    token = token or os.environ.get("SENTRY_AUTH_TOKEN") or None
    if token is None and not _loopback(host):
        raise DexterError(
            f"--host {host} serves the emulator beyond this machine, and without --token (or "
            "SENTRY_AUTH_TOKEN) it would accept any token, admin routes included: give a "
            "token, or bind 127.0.0.1", code="emulator-open-bind")
    limits = RateLimitSettings(enabled=bool(rate_limit or concurrency), limit=rate_limit,
                               window=rate_window, concurrency=concurrency)
    config = EmulatorConfig(
        db_path=db_path, token=token, organization=organization, projects=_names(projects),
        teams=_names(teams), environments=_names(environments), rate_limit=limits,
        faults=FaultSettings(latency_ms=latency_ms, jitter_ms=jitter_ms,
                             error_rate=error_rate))
    try:
        app = create_app(config)
    except (sqlite3.Error, OSError) as exc:
        raise DexterError(f"cannot open the emulator database {db_path}: {exc}",
                          code="emulator-db") from None

    if seed_from:
        _seed_from_manifests(app, organization, seed_from)

    def ready(bound: int) -> None:
        url = f"http://{host}:{bound}"
        config.public_url = url
        click.echo(json.dumps({"url": url, "organization": organization,
                               "projects": _project_slugs(app, organization), "db": db_path}))
        sys.stdout.flush()
        click.echo(f"dexter emulator: serving {url} (org {organization})", err=True)

    server = make_server(app, host, port, on_ready=ready, log_level="warning")
    # uvicorn re-raises the stop signal after its graceful shutdown; a no-op handler keeps
    # that from killing the process, so a SIGTERM ends with exit code 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    finally:
        app.state.store.close()
    click.echo("dexter emulator: stopped", err=True)


def _seed_from_manifests(app: Starlette, organization: str, path: str) -> None:
    """The names the manifests use, created as the embedded emulator creates them."""
    from ..emulator.seeding import PROVIDERS
    from ..manifest import load_manifests
    from .embedded import names_in, seed_report

    names = names_in(load_manifests(path), set(PROVIDERS))
    created = app.state.store.ensure_names(organization, **names.as_kwargs())
    report = seed_report({k: v for k, v in created.items() if v}, names.uses)
    click.echo(f"dexter emulator: seeded from {path}:" if report
               else f"dexter emulator: seeded from {path}: nothing new", err=True)
    for line in report:
        click.echo(line, err=True)

def _project_slugs(app: Any, organization: str) -> list[str]:
    """Every project the emulator serves for the organization (seeded ones included)."""
    from ..emulator.seeding import find_org

    org = find_org(app.state.store, organization)
    if org is None:
        return []
    return sorted(project["slug"] for project in app.state.store.snapshot("project", org["id"]))


def _reset(db_path: str) -> None:
    """Delete an emulator database, only if it is one (never a file dexter did not write)."""
    from .embedded import embedded_db_path

    path = Path(db_path) if db_path != ":memory:" else embedded_db_path()
    if not path.exists():
        click.echo(f"dexter emulator: nothing to reset at {path}", err=True)
        return
    if not _is_emulator_db(path):
        raise DexterError(f"{path} is not an emulator database; not deleting it",
                          code="emulator-db")
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    click.echo(f"dexter emulator: deleted {path}; the next run starts over", err=True)


def _is_emulator_db(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                return False
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except (OSError, sqlite3.Error):
        return False
    return {"objects", "sequences", "audit"} <= tables
