"""What counts as an answer from Sentry: bounded in time and size, and in the documented shape.

A proxy login page (200 with HTML), an http -> https redirect (3xx) or JSON of the wrong type
read as "no objects" would make a plan create everything again, so each is an error that
names the URL, the status and the content type (fail closed). A server that trickles bytes
is cut off by an overall deadline per request, and a body larger than the cap is refused
while it streams, never buffered whole.
"""

from __future__ import annotations

import json as jsonlib
import os
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import SentryError, trim

DEFAULT_DEADLINE = 120.0
"""Seconds one request may take from sending to the last byte (`DEXTER_REQUEST_DEADLINE`)."""
DEFAULT_MAX_RESPONSE_MB = 64
"""Largest response body accepted, in MiB (`DEXTER_MAX_RESPONSE_MB`); a page of 100 alert
rules is well under 1 MiB."""


class UnexpectedAnswer(SentryError):
    """Sentry (or something in front of it) answered outside the documented shape."""

    code = "sentry-unexpected-answer"


class ResponseTooLarge(SentryError):
    code = "sentry-response-too-large"


@dataclass(frozen=True)
class AnswerLimits:
    deadline: float = DEFAULT_DEADLINE
    max_bytes: int = DEFAULT_MAX_RESPONSE_MB * 1024 * 1024

    @classmethod
    def from_env(cls) -> AnswerLimits:
        return cls(deadline=_positive("DEXTER_REQUEST_DEADLINE", DEFAULT_DEADLINE),
                   max_bytes=int(_positive("DEXTER_MAX_RESPONSE_MB", DEFAULT_MAX_RESPONSE_MB)
                                 * 1024 * 1024))


def _positive(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SentryError(f"{name}={text!r} must be a positive number", code="invalid-setting")
    return value


async def read_body(response: httpx.Response, *, limit: int, where: str) -> bytes:
    """The (decoded) body of a streamed response, refused once it passes `limit` bytes."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(f"{where} answered a {int(declared):,}-byte body, over the "
                               f"{limit:,}-byte limit (DEXTER_MAX_RESPONSE_MB)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(f"{where} answered a body over the {limit:,}-byte limit "
                                   "(DEXTER_MAX_RESPONSE_MB); stopped reading it")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(response: httpx.Response, where: str) -> str:
    kind = response.headers.get("content-type") or "no content type"
    return f"{where} answered {response.status_code} ({kind})"


def parse_success(response: httpx.Response, content: bytes, where: str) -> Any:
    """The JSON of a 1xx-3xx answer, or UnexpectedAnswer: a redirect, or a body that is not
    JSON (an HTML page from a proxy)."""
    if 300 <= response.status_code < 400:
        location = response.headers.get("location")
        to = f" to {trim(location, 200)}" if location else ""
        raise UnexpectedAnswer(f"{_describe(response, where)}: a redirect{to}, not Sentry's "
                               "JSON (check SENTRY_URL: scheme, host and path)")
    if not content.strip():
        return None
    kind = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
    # no content type at all is tolerated when the body parses (some test servers and
    # proxies drop it); any other type (text/html from a login page) is refused
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise UnexpectedAnswer(f"{_describe(response, where)}, not Sentry's JSON (a proxy or "
                               f"login page?): {trim(content[:200].decode('utf-8', 'replace'), 120)}")
    try:
        return jsonlib.loads(content)
    except ValueError:
        raise UnexpectedAnswer(f"{_describe(response, where)} with a body that is not valid "
                               "JSON") from None


def parse_error(content: bytes) -> Any:
    """Sentry's error JSON if the body is JSON, else None (the text is shown instead)."""
    if not content:
        return None
    try:
        return jsonlib.loads(content)
    except ValueError:
        return None


def require_list(body: Any, where: str) -> list[Any]:
    """A list endpoint's page: a JSON array, or UnexpectedAnswer naming what came instead."""
    if not isinstance(body, list):
        raise UnexpectedAnswer(f"{where} answered JSON {type(body).__name__} where Sentry "
                               "documents a list; refusing to read it as no objects")
    return body
