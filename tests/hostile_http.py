"""A small misbehaving HTTP server on 127.0.0.1 for the faults the emulator cannot produce:
a proxy's HTML login page, a redirect, the wrong JSON type, a trickled body, a huge body.

Every handler is bounded (it stops after `MAX_SECONDS` or when the client hangs up), and the
server stops when the context manager exits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_SECONDS = 20.0

# Minimal valid answers for the directory lists, so a read reaches the hostile endpoint.
DIRECTORY = {"/projects/": [{"id": "1", "slug": "backend"}]}


@dataclass
class Hostile:
    url: str = ""
    behaviour: Callable[[BaseHTTPRequestHandler], None] | None = None
    """Answers requests whose path contains `hostile_path`; others get `[]` (or DIRECTORY)."""
    hostile_path: str = "/alert-rules/"
    bytes_sent: int = 0
    requests: list[str] = field(default_factory=list)
    """`METHOD /path?query` of every request, in order."""


def send_json(handler: BaseHTTPRequestHandler, status: int, body: object,
              headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    state = Hostile()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            state.requests.append(f"{self.command} {self.path}")
            path = self.path.split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            if length:  # a write's body, read so the connection can be reused
                self.rfile.read(length)
            if state.behaviour is not None and state.hostile_path in path:
                state.behaviour(self)
                return
            body = next((v for k, v in DIRECTORY.items() if path.endswith(k)), [])
            send_json(self, 200, body)

        do_POST = do_PUT = do_DELETE = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def html_page(handler: BaseHTTPRequestHandler) -> None:
    data = b"<html><body><form>Sign in to continue</form></body></html>"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


Answer = tuple[int, object, dict[str, str]]


def scripted(answers: dict[str, Answer | list[Answer]]
             ) -> Callable[[BaseHTTPRequestHandler], None]:
    """Answers `"METHOD /path/"` (the path without its query) from `answers`: a server
    whose every answer a test chose; a list is answered in turn (its last one repeats);
    anything else is a 404."""
    turns = {key: list(value) for key, value in answers.items() if isinstance(value, list)}

    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        key = f"{handler.command} {handler.path.split('?')[0]}"
        answer = answers.get(key, (404, {"detail": "Not found"}, {}))
        if key in turns:
            answer = turns[key].pop(0) if len(turns[key]) > 1 else turns[key][0]
        status, body, headers = answer  # type: ignore[misc]
        send_json(handler, status, body, headers)

    return behaviour


def redirect(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(301)
    handler.send_header("Location", "https://sentry.example/api/0/")
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def json_object(handler: BaseHTTPRequestHandler) -> None:
    send_json(handler, 200, {"detail": "maintenance", "results": []})


def trickle(state: Hostile, *, every: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """Headers, then one byte of a JSON array every `every` seconds (bounded)."""

    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        started = time.monotonic()
        try:
            handler.wfile.write(b"[")
            handler.wfile.flush()
            while time.monotonic() - started < MAX_SECONDS:
                time.sleep(every)
                handler.wfile.write(b" ")
                handler.wfile.flush()
                state.bytes_sent += 1
        except OSError:
            return  # the client gave up: what the test wants

    return behaviour


def huge(state: Hostile, *, total: int, declare: bool
         ) -> Callable[[BaseHTTPRequestHandler], None]:
    """A JSON array of `total` bytes, sent in 64 KiB chunks until the client hangs up."""

    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        chunk = b"1," * 32768
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declare:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        started = time.monotonic()
        try:
            handler.wfile.write(b"[")
            while state.bytes_sent < total and time.monotonic() - started < MAX_SECONDS:
                handler.wfile.write(chunk)
                state.bytes_sent += len(chunk)
        except OSError:
            return
        handler.close_connection = True

    return behaviour
