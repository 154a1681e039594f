"""Listings read as Sentry serves them: the same id twice is one object, a listing that
never ends is cut, and a 404 on one directory listing names that listing.

Offset pagination while objects are created shifts rows, so a row comes twice; overlapping
listings name one object twice. Only two different ids with one key are `ambiguous`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dexter_sync.core.changes import NoteReason
from dexter_sync.core.directory import Directory
from dexter_sync.core.requests import ApiRequest, ApiResponse
from dexter_sync.core.state import LiveObject
from dexter_sync.kinds.base import ListRequest
from dexter_sync.kinds.registry import get_kind
from dexter_sync.sentry import gateway as gateway_module
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import SentryError
from dexter_sync.sentry.gateway import Gateway
from dexter_sync.sentry.reading import list_all, merged_by_id, read_directory, read_listing
from tests.helpers_org import ORG, Org

TOKEN = "listing-token"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def org(tmp_path):
    created = Org(tmp_path, TOKEN)
    yield created
    run(created.close())


async def _create_releases(org: Org, versions: list[str]) -> None:
    for version in versions:
        response = await org.facade.send(ApiRequest("POST", f"organizations/{ORG}/releases/",
                                                    json={"version": version,
                                                          "projects": ["backend"]}))
        assert response.status == 201


def test_a_row_shifted_by_a_create_during_pagination_is_one_object(org, tmp_path):
    versions = [f"backend@1.0.{n}" for n in range(150)]
    run(_create_releases(org, versions))
    gateway = org.facade.gateway
    plain = gateway.request
    first_pages: list[str] = []

    async def create_after_the_first_page(request: ApiRequest) -> ApiResponse:
        response = await plain(request)
        # the newest-first release list: a release created now pushes every row one down,
        # so page 2 starts with the last row of page 1 again
        if request.path.endswith("/releases/") and request.method == "GET" \
                and "cursor" not in request.params and not first_pages:
            first_pages.append(request.path)
            await plain(ApiRequest("POST", f"organizations/{ORG}/releases/",
                                   json={"version": "backend@2.0.0", "projects": ["backend"]}))
        return response

    gateway.request = create_after_the_first_page  # type: ignore[method-assign]
    objects = run(org.facade.read_state(["release"], projects=["backend"])).of_kind("release")
    gateway.request = plain  # type: ignore[method-assign]
    assert first_pages  # the create happened between the pages
    keys = [o.key for o in objects]
    assert len(keys) == len(set(keys)) == 150
    assert set(keys) == set(versions)

    manifest = "releases:\n" + "".join(
        f"  - version: '{v}'\n    projects: [backend]\n" for v in versions[:3])
    org.write(manifest)
    gateway.request = create_after_the_first_page  # type: ignore[method-assign]
    first_pages.clear()
    plan = run(org.plan())
    gateway.request = plain  # type: ignore[method-assign]
    assert [n for n in plan.notes if n.reason is NoteReason.AMBIGUOUS] == []


def _obj(id_: str, key: str, project: str | None = None) -> LiveObject:
    return LiveObject(kind="release", key=key, id=id_, data={"id": id_}, project=project)


def test_overlapping_listings_merge_by_id_and_different_ids_stay_apart():
    merged = merged_by_id([_obj("1", "a"), _obj("1", "a"), _obj("2", "a"), _obj("3", "b"),
                           _obj("3", "c")])
    # the same id under one key once; two ids with key "a" remain (the plan calls them
    # ambiguous); one external ticket (id 3) linked under two keys stays two objects
    assert [(o.id, o.key) for o in merged] == [("1", "a"), ("2", "a"), ("3", "b"), ("3", "c")]


# ---- a server that never ends a listing ------------------------------------------------------

def endless_app(*, same_page: bool) -> Starlette:
    """Always a next cursor: the same page again (`same_page`) or ever new ids."""

    async def listing(request: Request) -> JSONResponse:
        cursor = int(request.query_params.get("cursor", "0:0:0").split(":")[1])
        start = 0 if same_page else cursor * 2
        nxt = f"0:{cursor + 1}:0"
        link = (f'<http://sentry.test/x/?cursor={nxt}>; rel="next"; results="true"; '
                f'cursor="{nxt}"')
        return JSONResponse([{"id": str(start + n), "name": f"acme/r{start + n}"} for n in range(2)],
                            headers={"Link": link})

    return Starlette(routes=[Route("/api/0/organizations/acme/projects/", listing)])


def _gateway(app: Starlette) -> Gateway:
    return Gateway(SentryClient(base_url="http://sentry.test", token=TOKEN,
                                transport=httpx.ASGITransport(app=app)))


def test_a_page_that_adds_no_new_id_ends_the_listing(caplog):
    hostile = _gateway(endless_app(same_page=True))
    plain = hostile.request
    sent: list[ApiRequest] = []

    async def counting(request: ApiRequest) -> ApiResponse:
        sent.append(request)
        return await plain(request)

    hostile.request = counting  # type: ignore[method-assign]
    listing = ListRequest(ApiRequest("GET", "organizations/acme/projects/"))
    with caplog.at_level(logging.WARNING):
        objects = run(read_listing(hostile, get_kind("repository"), listing, Directory("acme")))
    run(hostile.aclose())
    assert len(sent) == 2  # page 1, then page 1 again under a new cursor: nothing new, stop
    assert sorted(o.id for o in objects) == ["0", "1"]
    assert "added no new object" in caplog.text


def test_pages_per_listing_are_capped(monkeypatch):
    monkeypatch.setattr(gateway_module, "MAX_PAGES", 5)
    hostile = _gateway(endless_app(same_page=False))
    with pytest.raises(SentryError, match="more than 5 pages") as error:
        run(list_all(hostile, ApiRequest("GET", "organizations/acme/projects/")))
    run(hostile.aclose())
    assert error.value.code == "sentry-pagination"


# ---- a 404 on one directory listing ------------------------------------------------------------

def test_a_404_on_one_directory_listing_names_it_and_the_likely_scope(org):
    async def scenario() -> str:
        answer = await org.admin.put("faults/", json={
            "route": "/members/", "error_rate": 1.0, "error_statuses": [404], "seed": 1})
        assert answer.status_code == 200, answer.text
        with pytest.raises(SentryError) as error:
            await read_directory(org.facade.gateway, ORG)
        assert error.value.code == "sentry-listing-not-found"
        return str(error.value)

    message = run(scenario())
    assert "members/" in message and "member:read" in message
    assert "was not found in Sentry" not in message  # not "organization not found"


def test_every_listing_404_is_an_unknown_organization(org):
    with pytest.raises(SentryError) as error:
        run(read_directory(org.facade.gateway, "no-such-org"))
    assert error.value.code == "unknown-organization"
    assert "'no-such-org' was not found" in str(error.value)
