"""A loopback server with the few GitHub REST endpoints the Action uses, for tests.

    GET   /repos/{owner}/{repo}/issues/{number}/comments   per_page/page, Link rel="next"
    POST  /repos/{owner}/{repo}/issues/{number}/comments   422 over 65,536 characters
    PATCH /repos/{owner}/{repo}/issues/comments/{id}

Shapes follow GitHub's REST reference (comment objects with id, body, html_url, user;
`{"message": ...}` errors; 401 "Bad credentials" for a wrong token). Every request is
recorded with its headers so tests can check what was sent.

Faults for the next requests, one per request, in order (`faults.append(...)`):
`"502"` answers 502, `"html"` answers a proxy's HTML page with 200, `"lost"` does the
work and then drops the connection without an answer.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.hostile_http import html_page

BODY_LIMIT = 65_536
LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class FakeGitHub:
    token: str
    url: str = ""
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1000
    faults: list[str] = field(default_factory=list)
    link_base: str | None = None
    """Where next-page links point (default: this server), to test a redirecting proxy."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repository: str, number: int, body: str, login: str) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            comment = {
                "id": self.next_id, "node_id": f"IC_{self.next_id}", "body": body,
                "html_url": f"{self.url}/{repository}/pull/{number}#issuecomment-{self.next_id}",
                "issue_url": f"{self.url}/repos/{repository}/issues/{number}",
                "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                "_repository": repository, "_number": number,
            }
            self.comments[comment["id"]] = comment
            return comment

    def on(self, repository: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values()
                if c["_repository"] == repository and c["_number"] == number]


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if not k.startswith("_")}


def _handler(state: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

        def _send(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> str:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()

        def _route(self, method: str) -> None:
            text = self._body() if method != "GET" else ""
            state.requests.append(Recorded(method, self.path, dict(self.headers), text))
            fault = state.faults.pop(0) if state.faults else None
            if fault == "502":
                return self._send(502, {"message": "Server Error"})
            if fault == "html":
                return html_page(self)
            if fault == "lost":
                self.wfile = io.BytesIO()  # the answer goes nowhere: the connection just closes
                self.close_connection = True
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                return self._send(401, {"message": "Bad credentials"})
            parts = urlsplit(self.path)
            listing, one = LIST.match(parts.path), ONE.match(parts.path)
            if listing and method == "GET":
                query = parse_qs(parts.query)
                per_page = min(int(query.get("per_page", ["30"])[0]), 100)
                page = int(query.get("page", ["1"])[0])
                every = state.on(listing.group(1), int(listing.group(2)))
                chunk = every[(page - 1) * per_page: page * per_page]
                headers = {}
                if page * per_page < len(every):
                    headers["Link"] = (f'<{state.link_base or state.url}{parts.path}?per_page={per_page}&'
                                       f'page={page + 1}>; rel="next"')
                return self._send(200, [_public(c) for c in chunk], headers)
            if method in ("POST", "PATCH") and (listing or one):
                body = json.loads(text).get("body")
                if not isinstance(body, str) or len(body) > BODY_LIMIT:
                    return self._send(422, {"message": "Validation Failed", "errors": [
                        {"resource": "IssueComment", "code": "custom", "field": "body",
                         "message": "body is too long (maximum is 65536 characters)"}]})
                if listing and method == "POST":
                    made = state.add(listing.group(1), int(listing.group(2)), body,
                                     "github-actions[bot]")
                    return self._send(201, _public(made))
                if one and method == "PATCH" and int(one.group(2)) in state.comments:
                    comment = state.comments[int(one.group(2))]
                    comment.update(body=body, updated_at="2026-01-01T00:05:00Z")
                    return self._send(200, _public(comment))
            return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


@contextmanager
def fake_github(token: str) -> Iterator[FakeGitHub]:
    """The server on 127.0.0.1 (a free port), stopped when the block ends."""
    state = FakeGitHub(token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
