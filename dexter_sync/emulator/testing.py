"""Helpers for tests (dexter's own and anyone's): a served emulator and an in-process client.

    with running_emulator(projects=["backend"]) as emu:
        httpx.get(f"{emu.url}/api/0/organizations/{emu.organization}/projects/",
                  headers=emu.headers)
        emu.set_faults(error_rate=0.5, seed=1)

`asgi_client(app)` gives an `httpx.AsyncClient` on the app without a socket (the embedded
mode's transport).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import httpx

from .app import create_app
from .config import EmulatorConfig, FaultSettings, QuirkSettings, RateLimitSettings
from .serving import ThreadedServer
from .store import Store

DEFAULT_TOKEN = "emulator-test-token"
EMBEDDED_BASE_URL = "http://sentry.local"


def make_config(**kwargs: Any) -> EmulatorConfig:
    """An EmulatorConfig; `faults`, `rate_limit` and `quirks` may be given as dicts."""
    for key, cls in (("faults", FaultSettings), ("rate_limit", RateLimitSettings),
                     ("quirks", QuirkSettings)):
        if isinstance(kwargs.get(key), dict):
            kwargs[key] = cls(**kwargs[key])
    kwargs.setdefault("token", DEFAULT_TOKEN)
    return EmulatorConfig(**kwargs)


@dataclass
class EmulatorHandle:
    url: str
    token: str
    organization: str
    app: Any
    admin: httpx.Client
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def store(self) -> Store:
        return cast("Store", self.app.state.store)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/0"

    def client(self, **kwargs: Any) -> httpx.Client:
        """A sync client on `/api/0/` (or `base_url`) with the token; closed when the
        emulator stops."""
        client = httpx.Client(base_url=kwargs.pop("base_url", self.api_url + "/"),
                              headers=self.headers, timeout=kwargs.pop("timeout", 10.0), **kwargs)
        self._clients.append(client)
        return client

    def _admin(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The admin endpoint's JSON object ({} for an empty answer)."""
        response = self.admin.request(method, path, **kwargs)
        response.raise_for_status()
        return cast("dict[str, Any]", response.json()) if response.content else {}

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        return self._admin("PUT", "faults/", json=settings)

    def clear_faults(self) -> dict[str, Any]:
        return self._admin("PUT", "faults/", json={"reset": True})

    def set_rate_limit(self, **settings: Any) -> dict[str, Any]:
        return self._admin("PUT", "rate-limits/", json=settings)

    def set_quirks(self, **settings: Any) -> dict[str, Any]:
        return self._admin("PUT", "quirks/", json=settings)

    def counters(self) -> dict[str, Any]:
        return self._admin("GET", "counters/")

    def hold(self, *, route: str | None = None, methods: str | None = None, after: int = 0,
             stage: str = "before", timeout: float = 60.0) -> dict[str, Any]:
        """Hold matching requests inside the emulator until `release_holds()` (holds.py)."""
        return self._admin("PUT", "holds/", json={
            "route": route, "methods": methods, "after": after, "stage": stage,
            "timeout": timeout})

    def holds(self) -> dict[str, Any]:
        return self._admin("GET", "holds/")

    def release_holds(self) -> dict[str, Any]:
        return self._admin("DELETE", "holds/")

    def reset_counters(self) -> None:
        self._admin("DELETE", "counters/")

    def seed_rules(self, *, metric_rules: int = 0, issue_rules: int = 0, projects: int = 1,
                   saved_queries: int = 0) -> dict[str, Any]:
        return self._admin("POST", "seed/", json={
            "metric_rules": metric_rules, "issue_rules": issue_rules, "projects": projects,
            "saved_queries": saved_queries})

    def oob_change(self, kind: str, op: str, *, id: Any = None, fields: dict[str, Any] | None = None,
                   project: str | None = None) -> dict[str, Any]:
        """Change an object as someone in Sentry's UI would (audited as "ui-user")."""
        return self._admin("POST", "oob/", json={"kind": kind, "op": op, "id": id,
                                                 "fields": fields or {}, "project": project})

    def open_incident(self, rule: str | int, *, status: int = 20) -> dict[str, Any]:
        """A metric rule (name or id) fires: its incident, with activities."""
        return self._admin("POST", "incidents/", json={"action": "open", "rule": rule,
                                                       "status": status})

    def resolve_incident(self, identifier: str | int) -> dict[str, Any]:
        return self._admin("POST", "incidents/", json={"action": "resolve",
                                                       "identifier": str(identifier)})

    def ensure_names(self, **names: Any) -> dict[str, Any]:
        return self.store.ensure_names(self.organization, **names)

    def reset(self) -> None:
        """Wipe the state and restore the configured rate-limit, fault and quirk settings."""
        self._admin("POST", "reset/")

    def close_clients(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()


@contextmanager
def running_emulator(**config_kwargs: Any) -> Iterator[EmulatorHandle]:
    """Serve a fresh emulator on 127.0.0.1 (a free port) for the duration of the block."""
    config = make_config(**config_kwargs)
    app = create_app(config)
    server = ThreadedServer(app)
    port = server.start()
    url = f"http://127.0.0.1:{port}"
    config.public_url = url
    admin = httpx.Client(base_url=f"{url}/__emulator__/", timeout=10.0,
                         headers={"Authorization": f"Bearer {config.token or DEFAULT_TOKEN}"})
    handle = EmulatorHandle(url=url, token=config.token or DEFAULT_TOKEN,
                            organization=config.organization, app=app, admin=admin)
    try:
        yield handle
    finally:
        handle.close_clients()
        admin.close()
        server.stop()
        app.state.store.close()


def asgi_client(app: Any, *, token: str | None = DEFAULT_TOKEN,
                base_url: str = EMBEDDED_BASE_URL) -> httpx.AsyncClient:
    """An async client talking to `app` in-process (httpx's ASGI transport)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url,
                             headers=headers)
