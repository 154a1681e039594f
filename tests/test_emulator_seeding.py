"""Seeding issues by short id: the embedded emulator creates the issues that manifests link
(`BACKEND-12`) the way Sentry does, from an event, and later issues never reuse the number."""

from __future__ import annotations

import asyncio

from dexter_sync.emulator import create_app
from dexter_sync.emulator.routes.ingest import record_event
from dexter_sync.emulator.seeding import ensure_org, ensure_project
from dexter_sync.emulator.testing import asgi_client, make_config


def test_issue_seeded_by_short_id_is_served_and_its_number_is_never_reused() -> None:
    app = create_app(make_config(organization="acme"))
    store = app.state.store
    created = store.ensure_names("acme", projects=["backend"], issues=["BACKEND-12"])
    assert created["issues"] == ["BACKEND-12"]
    assert store.ensure_names("acme", issues=["backend-12"])["issues"] == []  # idempotent

    org = ensure_org(store, "acme", {"organization": []})
    project, _ = ensure_project(store, org, "backend", actor={"type": "system"})
    record_event(store, org, project, {"message": "a real event", "level": "error"})

    async def read() -> tuple[int, list[str]]:
        async with asgi_client(app) as api:
            detail = await api.get("/api/0/organizations/acme/issues/BACKEND-12/")
            listed = await api.get("/api/0/organizations/acme/issues/", params={"query": ""})
            return detail.status_code, sorted(i["shortId"] for i in listed.json())

    status, short_ids = asyncio.run(read())
    assert status == 200
    assert short_ids == ["BACKEND-12", "BACKEND-13"]
