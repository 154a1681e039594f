"""Real clients against the emulator: `dexter emulator` as a subprocess (ready line, clean
SIGTERM), the sentry-cli binary (releases, deploys), the sentry-sdk (events -> issues), and
the in-process ASGI transport with SQLite persistence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from dexter_sync.emulator import EmulatorConfig, create_app
from dexter_sync.emulator.testing import asgi_client

BIN = Path(sys.executable).parent
TOKEN = "cli-test-token"


@contextmanager
def started(tmp_path: Path, *extra: str) -> Iterator[dict]:
    """`dexter emulator` in a subprocess; yields its ready line plus the process, and kills
    it afterwards unless the test stopped it."""
    env = {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [str(BIN / "dexter"), "emulator", "--port", "0", "--db", str(tmp_path / "s.sqlite"),
         "--org", "acme", "--projects", "backend,frontend", "--environments", "production",
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        yield {**json.loads(proc.stdout.readline()), "proc": proc}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


@pytest.fixture
def served(tmp_path) -> Iterator[dict]:
    with started(tmp_path) as ready:
        yield ready


def test_ready_line_then_clean_stop_on_sigterm(served):
    assert served["url"].startswith("http://127.0.0.1:")
    response = httpx.get(f"{served['url']}/api/0/organizations/acme/projects/",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert [p["slug"] for p in response.json()] == ["backend", "frontend"]
    assert httpx.get(f"{served['url']}/api/0/organizations/acme/projects/",
                     headers={"Authorization": "Bearer other"}).status_code == 401
    proc = served["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert TOKEN not in proc.stderr.read()


def test_rate_limit_flags(tmp_path):
    with started(tmp_path, "--rate-limit", "2", "--rate-window", "60") as ready:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=f"{ready['url']}/api/0/", headers=headers) as client:
            statuses = [client.get("organizations/acme/teams/").status_code for _ in range(3)]
            assert statuses == [200, 200, 429]
            assert client.get("organizations/acme/teams/").headers[
                "X-Sentry-Rate-Limit-Limit"] == "2"
        proc = ready["proc"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def test_seed_from_manifests_then_the_example_plans_and_applies(tmp_path):
    example = Path(__file__).resolve().parents[1] / "examples" / "acme"
    with started(tmp_path, "--seed-from", str(example)) as ready:
        env = {**os.environ, "SENTRY_URL": ready["url"], "SENTRY_AUTH_TOKEN": TOKEN,
               "NO_COLOR": "1"}

        def dexter(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(BIN / "dexter"), *args], env=env, capture_output=True,
                                  text=True, timeout=120, check=False)

        assert dexter("plan", str(example), "--detailed-exitcode").returncode == 2
        applied = dexter("apply", str(example), "--auto-approve")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert dexter("plan", str(example), "--detailed-exitcode").returncode == 0


def test_sentry_cli_creates_lists_finalizes_and_deploys(served):
    env = {**os.environ, "SENTRY_URL": served["url"], "SENTRY_AUTH_TOKEN": TOKEN,
           "SENTRY_ORG": "acme", "SENTRY_PROJECT": "backend", "SENTRY_LOG_LEVEL": "warn"}

    def cli(*args: str) -> str:
        done = subprocess.run([str(BIN / "sentry-cli"), *args], env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Created release 2.0.1" in cli("releases", "new", "2.0.1")
    assert "2.0.1" in cli("releases", "list")
    cli("releases", "finalize", "2.0.1")
    cli("releases", "deploys", "2.0.1", "new", "-e", "production", "-n", "first")
    api = httpx.Client(base_url=f"{served['url']}/api/0/",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    with api:
        release = api.get("organizations/acme/releases/2.0.1/").json()
        assert release["dateReleased"] is not None
        assert [p["slug"] for p in release["projects"]] == ["backend"]
        assert release["deployCount"] == 1 and release["lastDeploy"]["name"] == "first"
        deploys = api.get("organizations/acme/releases/2.0.1/deploys/").json()
        assert [(d["environment"], d["name"]) for d in deploys] == [("production", "first")]


def test_sentry_sdk_exception_becomes_a_listed_issue(emulator):
    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    client = emulator.client()
    dsn = client.get("projects/acme/backend/keys/").json()[0]["dsn"]["public"]
    # a client of its own (not sentry_sdk.init) so no global SDK state leaks into other tests
    sdk = sentry_sdk.Client(dsn=dsn, environment="production", release="9.9.9",
                            default_integrations=False)
    scope = sentry_sdk.Scope(client=sdk)
    for _ in range(2):
        try:
            raise KeyError("missing-thing")
        except KeyError:
            event, hint = event_from_exception(sys.exc_info(), client_options=sdk.options)
            sdk.capture_event(event, hint=hint, scope=scope)
    sdk.capture_event({"message": "plain message", "level": "info"}, scope=scope)
    sdk.flush(timeout=10)
    sdk.close()
    issues = client.get("organizations/acme/issues/?sort=freq").json()
    assert [(i["title"], i["count"]) for i in issues] == [
        ("KeyError: 'missing-thing'", "2"), ("plain message", "1")]
    assert sum(n for _, n in issues[0]["stats"]["24h"]) == 2
    latest = client.get(f"organizations/acme/issues/{issues[0]['id']}/events/latest/").json()
    assert {"key": "environment", "value": "production"} in latest["tags"]
    assert client.get("organizations/acme/issues/?query=is:resolved").json() == []


def test_ingestion_refuses_missing_or_unknown_keys(emulator):
    key = emulator.client().get("projects/acme/backend/keys/").json()[0]
    url = f"{emulator.url}/api/{key['projectId']}/store/"
    assert httpx.post(url, json={"message": "x"}).status_code == 401
    assert httpx.post(url + "?sentry_key=nope", json={"message": "x"}).status_code == 401
    garbage = httpx.post(f"{emulator.url}/api/{key['projectId']}/envelope/"
                         f"?sentry_key={key['public']}", content=b"not an envelope")
    assert garbage.status_code == 400


@pytest.mark.anyio
async def test_embedded_asgi_transport_persists_to_sqlite(tmp_path):
    db = tmp_path / "nested" / "local-sentry.sqlite"
    app = create_app(EmulatorConfig(db_path=str(db), organization="acme", projects=["web"]))
    async with asgi_client(app, token="anything") as client:
        created = await client.post("/api/0/projects/acme/web/rules/", json={
            "name": "r", "actionMatch": "all", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners"}]})
        assert created.status_code == 200
    app.state.store.close()
    reopened = create_app(EmulatorConfig(db_path=str(db), organization="acme"))
    async with asgi_client(reopened) as client:
        rules = (await client.get("/api/0/projects/acme/web/rules/")).json()
    reopened.state.store.close()
    assert [r["name"] for r in rules] == ["r"]


def test_unusable_database_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = subprocess.run([str(BIN / "dexter"), "emulator", "--db", str(blocker / "x.sqlite")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "cannot open the emulator database" in done.stderr
    assert "Traceback" not in done.stderr
