"""Shared scaffolding of the kind tests: a fresh in-process emulator org `acme` per scenario
(httpx ASGI transport), sending a kind's requests to it, reading a kind's live objects, and
loading a manifest that must fail validation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from dexter_sync.core.diagnostics import ValidationError as ManifestError
from dexter_sync.core.directory import Directory
from dexter_sync.core.requests import ApiRequest
from dexter_sync.core.state import LiveObject
from dexter_sync.emulator import create_app
from dexter_sync.emulator.testing import asgi_client, make_config
from dexter_sync.kinds.base import ReadContext

Scenario = Callable[[httpx.AsyncClient, Directory], Awaitable[Any]]


async def project_directory(client: httpx.AsyncClient) -> Directory:
    """The org's directory with its projects only (what most kinds need)."""
    body = (await client.get("/api/0/organizations/acme/projects/")).json()
    return Directory("acme", projects={p["slug"]: str(p["id"]) for p in body})


def on_emulator(scenario: Scenario, *,
                directory_of: Callable[[httpx.AsyncClient], Awaitable[Directory]]
                = project_directory, **names: Any) -> Any:
    """Run `scenario(client, directory)` against a fresh in-process emulator org `acme`
    holding `names` (ensure_names keywords)."""
    app = create_app(make_config(organization="acme"))
    app.state.store.ensure_names("acme", **names)

    async def main() -> Any:
        async with asgi_client(app) as client:
            return await scenario(client, await directory_of(client))

    try:
        return asyncio.run(main())
    finally:
        app.state.store.close()


async def send(client: httpx.AsyncClient, request: ApiRequest) -> httpx.Response:
    return await client.request(request.method, f"/api/0/{request.path}", params=request.params,
                                json=request.json)


async def read_live(client: httpx.AsyncClient, kind: Any, ctx: ReadContext) -> list[LiveObject]:
    """Every live object of `kind` in scope of `ctx`, as the planner would read them."""
    objects: list[LiveObject] = []
    for listing in kind.list_requests(ctx):
        response = await send(client, listing.request)
        assert response.status_code == 200, response.text
        objects += [kind.to_live_object(d, listing, directory=ctx.directory)
                    for d in kind.items(response.json(), listing)]
    return objects


def manifest_errors(root: Path, filename: str, text: str) -> ManifestError:
    """Load a manifest directory holding `text` as `filename`; it must fail validation."""
    from dexter_sync.manifest import load_manifests

    (root / "dexter.yaml").write_text(
        f"version: 1\norganization: acme\ninclude: [{filename}]\n")
    (root / filename).write_text(text)
    with pytest.raises(ManifestError) as error:
        load_manifests(root)
    return error.value
