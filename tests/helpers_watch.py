"""`dexter emulator` and `dexter watch` as real subprocesses, for the watch tests.

    with served_emulator(tmp_path, manifests) as emu, watching(emu, manifests) as daemon:
        emu.oob("metric_rule", "update", id=..., fields={...})
        event = daemon.wait_for(lambda e: e["type"] == "drift.detected")

Every wait polls a condition against a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

BIN = Path(sys.executable).parent
TOKEN = "watch-test-token"
WAIT = 30.0

DEXTER_YAML = """\
version: 1
organization: acme
include: ["alerts.yaml"]
"""
ALERTS_YAML = """\
metric_alerts:
  - name: backend errors
    project: backend
    aggregate: count()
    time_window: 5m
    owner: team:backend
    triggers:
      critical:
        threshold: 100
        actions:
          - email: {team: backend}
"""


def write_manifests(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text(DEXTER_YAML)
    (root / "alerts.yaml").write_text(ALERTS_YAML)
    return root


def poll(condition: Callable[[], Any], *, timeout: float = WAIT, what: str = "a condition",
         every: float = 0.05) -> Any:
    """The first truthy value of `condition()`, polled until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class Lines:
    """A subprocess stream read line by line on a thread."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


@dataclass
class Emulator:
    url: str
    proc: subprocess.Popen[str]
    admin: httpx.Client
    api: httpx.Client

    def oob(self, kind: str, op: str, **body: Any) -> Any:
        response = self.admin.post("oob/", json={"kind": kind, "op": op, **body})
        response.raise_for_status()
        return response.json()

    def faults(self, **settings: Any) -> None:
        self.admin.put("faults/", json=settings).raise_for_status()

    def rule_named(self, name: str) -> dict[str, Any]:
        rules = self.api.get("organizations/acme/alert-rules/").json()
        return next(r for r in rules if r["name"] == name)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SENTRY_URL": self.url, "SENTRY_AUTH_TOKEN": TOKEN,
                "NO_COLOR": "1"}

    def dexter(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "dexter"), *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)


@contextmanager
def served_emulator(tmp_path: Path, manifests: Path) -> Iterator[Emulator]:
    proc = subprocess.Popen(
        [str(BIN / "dexter"), "emulator", "--port", "0", "--db", str(tmp_path / "s.sqlite"),
         "--org", "acme", "--projects", "backend,frontend", "--environments", "production",
         "--token", TOKEN, "--seed-from", str(manifests)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        url = json.loads(proc.stdout.readline())["url"]  # type: ignore[union-attr]
        with httpx.Client(base_url=f"{url}/__emulator__/", headers=headers) as admin, \
                httpx.Client(base_url=f"{url}/api/0/", headers=headers) as api:
            yield Emulator(url, proc, admin, api)
    finally:
        proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@contextmanager
def applied_emulator(tmp_path: Path, manifests: Path) -> Iterator[Emulator]:
    """A served emulator whose state already equals the manifests."""
    with served_emulator(tmp_path, manifests) as emu:
        result = emu.dexter("apply", str(manifests), "--auto-approve")
        assert result.returncode == 0, result.stdout + result.stderr
        yield emu


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return write_manifests(tmp_path / "sentry")


@pytest.fixture
def applied(tmp_path: Path, manifests: Path) -> Iterator[Emulator]:
    with applied_emulator(tmp_path, manifests) as emu:
        yield emu


@dataclass
class Daemon:
    proc: subprocess.Popen[str]
    out: Lines
    err: Lines
    url: str | None = None
    seen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.snapshot() if line.startswith("{")]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["type"] == event_type]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = WAIT,
                 what: str = "an event") -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"dexter watch exited ({self.proc.returncode}): "
                                     + "\n".join(self.err.snapshot()[-20:]))
            return next((e for e in self.events() if predicate(e)), None)

        event: dict[str, Any] = poll(found, timeout=timeout, what=what)
        return event

    def metric(self, name: str) -> float:
        assert self.url is not None
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith((name + " ", name + "{")):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"no metric {name}")

    def cycles(self) -> int:
        return int(self.metric("dexter_watch_cycles_total"))

    def wait_started(self, *, timeout: float = WAIT) -> None:
        """Wait until the first cycle has run (its state is the baseline)."""
        poll(lambda: self.cycles() >= 1, timeout=timeout, what="the first cycle")

    def wait_cycles(self, count: int, *, timeout: float = WAIT) -> None:
        """Wait until `count` more cycles have run."""
        target = self.cycles() + count
        poll(lambda: self.cycles() >= target, timeout=timeout, what=f"{count} more cycles")

    def stop(self, timeout: float = 10.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.out.join()
        self.err.join()
        return code


def terminate(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, then a kill if it does not end within 10 s: a clean stop first, so the
    process's coverage data is saved."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def watching(emu: Emulator, manifests: Path, *args: str, interval: str = "300ms",
             env: dict[str, str] | None = None, serve: bool = True) -> Iterator[Daemon]:
    command = [str(BIN / "dexter"), "watch", str(manifests), "--interval", interval, *args]
    if serve:
        command += ["--serve", "127.0.0.1:0"]
    proc = subprocess.Popen(command, env={**emu.env, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    daemon = Daemon(proc, Lines(proc.stdout), Lines(proc.stderr))
    try:
        if serve:
            def serving() -> str | None:
                if proc.poll() is not None:
                    raise AssertionError("dexter watch exited: "
                                         + "\n".join(daemon.err.snapshot()))
                for line in daemon.err.snapshot():
                    if line.startswith('{"serving"'):
                        url: str = json.loads(line)["serving"]
                        return url
                return None

            daemon.url = poll(serving, what="the serving line")
        yield daemon
    finally:
        if proc.poll() is None:
            terminate(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


class SseClient:
    """An SSE subscriber on a thread: `messages` holds `(id, event, data)` as they arrive."""

    def __init__(self, url: str, *, headers: dict[str, str] | None = None) -> None:
        self.messages: list[tuple[int, str, dict[str, Any]]] = []
        self.status: int | None = None
        self.comments = 0
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}),
                                        daemon=True)
        self._thread.start()
        poll(lambda: self.status is not None and self.comments > 0, what="the SSE stream")

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    return
                fields: dict[str, str] = {}
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments += 1
                    elif line == "" and "data" in fields:
                        self.messages.append((int(fields["id"]), fields["event"],
                                              json.loads(fields["data"])))
                        fields = {}
                    elif ":" in line:
                        name, _, value = line.partition(":")
                        fields[name] = value.lstrip(" ")
        except (httpx.HTTPError, RuntimeError):
            if not self._closed.is_set():
                raise

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], *,
                 what: str = "an SSE message") -> dict[str, Any]:
        found: dict[str, Any] = poll(
            lambda: next((m[2] for m in list(self.messages) if predicate(m[2])), None),
            what=what)
        return found

    def close(self) -> None:
        self._closed.set()
        self._client.close()
        self._thread.join(5)


def send_exception(emu: Emulator, message: str) -> None:
    """A real sentry-sdk client sends one exception (`ValueError(message)`) to the
    emulator's DSN for project backend."""
    import sentry_sdk
    from sentry_sdk.utils import event_from_exception

    dsn = emu.api.get("projects/acme/backend/keys/").json()[0]["dsn"]["public"]
    sdk = sentry_sdk.Client(dsn=dsn, environment="production", default_integrations=False)
    scope = sentry_sdk.Scope(client=sdk)
    try:
        raise ValueError(message)
    except ValueError:
        event, hint = event_from_exception(sys.exc_info(), client_options=sdk.options)
        sdk.capture_event(event, hint=hint, scope=scope)
    sdk.flush(timeout=10)
    sdk.close()
