"""A real `dexter apply` process, killed with SIGKILL part-way through against a real
`dexter emulator` process on loopback, then run again: it converges with zero duplicates and
nothing lost (identity is the natural key, not local state). Counted through the API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_apply_support import PROJECTS, duplicates, plan_only, write_manifests

TOKEN = "sigkill-test-token"
DEXTER = [str(Path(sys.executable).with_name("dexter"))]


class Served:
    """The handful of emulator calls this test needs, over plain HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.organization = "acme"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        self._http = httpx.Client(timeout=10.0, headers=headers)
        self._api = httpx.Client(base_url=f"{url}/api/0/", timeout=10.0, headers=headers)

    def client(self) -> httpx.Client:
        return self._api

    def close(self) -> None:
        self._http.close()
        self._api.close()

    def admin(self, method: str, path: str, **kwargs) -> dict:
        response = self._http.request(method, f"{self.url}/__emulator__/{path}", **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    def posts(self) -> int:
        routes = self.admin("GET", "counters/")["routes"]
        return sum(sum(s.values()) for r, s in routes.items() if r.startswith("POST "))


@pytest.fixture
def served(tmp_path):
    env = {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [*DEXTER, "emulator", "--port", "0", "--db", str(tmp_path / "emu.sqlite"),
         "--org", "acme", "--projects", ",".join(PROJECTS), "--teams", ",".join(PROJECTS),
         "--environments", "production"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line, "dexter emulator printed no ready line"
        handle = Served(json.loads(line)["url"])
        yield handle
        handle.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _apply(served: Served, manifests: Path, *, output: int = subprocess.PIPE
           ) -> subprocess.Popen:
    env = {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN}
    env.pop("SENTRY_URL", None)
    return subprocess.Popen(
        [*DEXTER, "apply", str(manifests), "--auto-approve", "--sentry-url", served.url,
         "--concurrency", "4"], stdout=output, stderr=output, text=True, env=env)


def live_names(served: Served):
    from tests.test_apply_support import live_names as names_of
    return names_of(served)


def wait_for(condition, what: str, *, seconds: float = 60.0, process=None) -> None:
    """Poll `condition` until true (bounded); fail early if `process` has exited."""
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None:
            assert process.poll() is None, f"apply exited before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


CONCURRENCY = 4
LET_THROUGH = 15


@pytest.mark.slow
def test_killed_apply_converges_on_the_next_run(served, tmp_path, monkeypatch):
    manifests = write_manifests(tmp_path / "m", queries=40, metric=20)
    served.admin("DELETE", "counters/")
    # the first 15 creates pass; every later one waits inside the emulator, received and
    # not yet committed, until released: the kill lands while those writes are in flight
    served.admin("PUT", "holds/", json={"methods": "POST", "route": "/api/0/",
                                        "after": LET_THROUGH, "stage": "before"})
    first = _apply(served, manifests, output=subprocess.DEVNULL)
    wait_for(lambda: served.admin("GET", "holds/")["held"] == CONCURRENCY,
             "every worker to have a create in flight", process=first)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert served.posts() == LET_THROUGH  # the held ones have not been answered

    served.admin("DELETE", "holds/")  # writes in flight at the kill still land: let them
    wait_for(lambda: served.posts() == LET_THROUGH + CONCURRENCY, "the held creates to land")
    assert served.admin("GET", "holds/")["held"] == 0
    partial = live_names(served)
    assert sum(partial.values()) == LET_THROUGH + CONCURRENCY
    assert duplicates(partial) == {}

    second = _apply(served, manifests)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err
    created = int(re.search(r"Apply complete: (\d+) applied, 0 failed", out).group(1))
    assert created == 60 - LET_THROUGH - CONCURRENCY  # only what the killed run had not done

    names = live_names(served)
    assert duplicates(names) == {}
    assert set(names) == {f"q-{i:04d}" for i in range(40)} | {f"m-{i:04d}" for i in range(20)}
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    assert not asyncio.run(plan_only(served, manifests)).has_changes
