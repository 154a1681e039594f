"""An in-process emulator org for planner tests: the emulator over httpx's ASGI transport,
a facade on it, a manifest directory, and a minimal apply (shared by the plan and export
tests)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx

from dexter_sync.cli.plan import plan_live
from dexter_sync.core.changes import Action, Plan
from dexter_sync.emulator import create_app
from dexter_sync.emulator.testing import make_config
from dexter_sync.kinds.registry import get_kind
from dexter_sync.manifest import load_manifests
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway

ORG = "acme"
BASE = "http://emulator.test"


class Org:
    """An in-process emulator, a facade on it, and a manifest directory."""

    def __init__(self, tmp_path: Path, token: str) -> None:
        self.dir = tmp_path
        self.app = create_app(make_config(token=token, organization=ORG))
        self.app.state.store.ensure_names(
            ORG, projects=["backend", "frontend"], teams=["backend-team"],
            members=["ana@example.com"], environments=["production"],
            integrations=[("slack", "acme-slack"), ("pagerduty", "acme-pd")],
            slack_channels=[("acme-slack", "#alerts")])
        transport = httpx.ASGITransport(app=self.app)
        self.facade = SentryFacade(Gateway(SentryClient(base_url=BASE, token=token,
                                                        transport=transport)), ORG)
        self.admin = httpx.AsyncClient(transport=transport, base_url=f"{BASE}/__emulator__/",
                                       headers={"Authorization": f"Bearer {token}"})

    def write(self, body: str, settings: str = "") -> None:
        (self.dir / "dexter.yaml").write_text(
            f"version: 1\norganization: {ORG}\ninclude: [r.yaml]\n" + textwrap.dedent(settings))
        (self.dir / "r.yaml").write_text(textwrap.dedent(body))

    async def plan(self, **kwargs) -> Plan:
        return await plan_live(self.facade, load_manifests(self.dir), **kwargs)

    async def apply(self, plan: Plan) -> None:
        """Send each change's request as planned (a minimal apply: no retries needed)."""
        for change in plan.changes:
            kind = get_kind(change.kind)
            request = {Action.CREATE: kind.create_request, Action.UPDATE: kind.update_request,
                       Action.DELETE: kind.delete_request}[change.action](ORG, change)
            response = await self.facade.send(request)
            assert response.status < 300, (change.address, response.status, response.body)

    async def converge(self, body: str, settings: str = "") -> Plan:
        self.write(body, settings)
        first = await self.plan()
        assert first.has_changes
        await self.apply(first)
        return await self.plan()

    async def live(self, kind: str) -> list[dict]:
        state = await self.facade.read_state([kind], projects=["backend", "frontend"])
        return [o.data for o in state.of_kind(kind)]

    async def oob(self, kind: str, op: str, **payload) -> dict:
        response = await self.admin.post("oob/", json={"kind": kind, "op": op, **payload})
        assert response.status_code < 300, response.text
        return response.json()

    async def close(self) -> None:
        await self.admin.aclose()
        await self.facade.aclose()
        self.app.state.store.close()
