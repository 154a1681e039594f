"""The emulator's own doors: a non-loopback bind without a token is refused (it would accept
any token, admin routes included), and admin input is validated like the API's, so an
out-of-band create or edit can never make a list endpoint answer 500."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dexter_sync.emulator.testing import running_emulator

DEXTER = str(Path(sys.executable).with_name("dexter"))
LISTS = {"project": "projects/", "team": "teams/", "integration": "integrations/",
         "repo": "repos/", "saved_query": "discover/saved/", "release": "releases/",
         "code_mapping": "code-mappings/"}


@pytest.fixture(scope="module")
def emu():
    with running_emulator(projects=["backend"]) as handle:
        yield handle


def admin_create(emu, kind: str, fields: object):
    return emu.admin.post("oob/", json={"kind": kind, "op": "create", "fields": fields})


@pytest.mark.parametrize("kind", sorted(LISTS))
@pytest.mark.parametrize("fields", [{}, {"name": ""}, {"slug": "../x", "name": None}, [1], "x"])
def test_admin_create_with_bad_fields_is_a_400_and_lists_stay_readable(emu, kind, fields):
    answer = admin_create(emu, kind, fields)
    assert answer.status_code == 400, answer.text
    listed = emu.client().get(f"organizations/acme/{LISTS[kind]}")
    assert listed.status_code == 200, listed.text


def test_admin_creates_make_complete_objects(emu):
    made = {
        "project": admin_create(emu, "project", {"slug": "made-by-ui"}),
        "team": admin_create(emu, "team", {"slug": "ui-team"}),
        "integration": admin_create(emu, "integration", {"provider": "github", "name": "gh"}),
        "repo": admin_create(emu, "repo", {"name": "acme/ui", "integration": "gh"}),
        "saved_query": admin_create(emu, "saved_query", {
            "name": "ui query", "projects": [], "fields": ["title"], "query": "", "range": "24h",
            "version": 2}),
    }
    assert {k: r.status_code for k, r in made.items()} == dict.fromkeys(made, 201)
    projects = emu.client().get("organizations/acme/projects/")
    assert projects.status_code == 200
    created = next(p for p in projects.json() if p["slug"] == "made-by-ui")
    assert created["dateCreated"]
    for kind in made:
        assert emu.client().get(f"organizations/acme/{LISTS[kind]}").status_code == 200


def test_admin_edits_keep_server_fields_and_types(emu):
    project = next(p for p in emu.client().get("organizations/acme/projects/").json()
                   if p["slug"] == "backend")
    for fields in ({"dateCreated": None}, {"id": 7}, {"slug": 5}):
        answer = emu.admin.post("oob/", json={"kind": "project", "op": "update",
                                              "id": project["id"], "fields": fields})
        assert answer.status_code == 400, (fields, answer.text)
    assert emu.client().get("organizations/acme/projects/").status_code == 200


def run_emulator(*args: str, token: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_AUTH_TOKEN"}
    if token:
        env["SENTRY_AUTH_TOKEN"] = token
    return subprocess.run([DEXTER, "emulator", "--port", "0", *args], env=env, text=True,
                          capture_output=True, timeout=30, check=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.internal"])
def test_a_non_loopback_bind_without_a_token_is_refused(host):
    refused = run_emulator("--host", host, token=None)
    assert refused.returncode == 1
    assert f"--host {host} serves the emulator beyond this machine" in refused.stderr
    assert refused.stdout == ""  # never served: no ready line
