"""Turning SDK events into issues: envelope parsing and Sentry-like grouping.

An event's group hash comes from its explicit fingerprint, else its (last) exception type
and value, else its message — enough for the SDKs' events to group the way users expect.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from typing import Any


class EnvelopeError(ValueError):
    """The body is not a valid envelope or event."""


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError) as exc:
        raise EnvelopeError(f"bad {encoding} body: {exc}") from None
    if encoding in ("", "identity"):
        return body
    raise EnvelopeError(f"unsupported content encoding {encoding!r}")


def parse_envelope(body: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]]]:
    """The envelope header and its items as (item header, payload bytes)."""
    first, _, rest = body.partition(b"\n")
    header = _json(first)
    items: list[tuple[dict[str, Any], bytes]] = []
    while rest.strip():
        line, _, rest = rest.partition(b"\n")
        if not line.strip():
            continue
        item_header = _json(line)
        length = item_header.get("length")
        if isinstance(length, int) and length >= 0:
            if len(rest) < length:
                raise EnvelopeError("item shorter than its declared length")
            payload, rest = rest[:length], rest[length:]
            if rest.startswith(b"\n"):
                rest = rest[1:]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item_header, payload))
    return header, items


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeError("expected a JSON object")
    return value


def exception_of(event: dict[str, Any]) -> dict[str, Any] | None:
    exc = event.get("exception")
    values = exc.get("values") if isinstance(exc, dict) else exc
    if isinstance(values, list) and values and isinstance(values[-1], dict):
        return values[-1]
    return None


def message_of(event: dict[str, Any]) -> str:
    logentry = event.get("logentry") or {}
    if isinstance(logentry, dict) and (logentry.get("formatted") or logentry.get("message")):
        return str(logentry.get("formatted") or logentry.get("message"))
    message = event.get("message")
    if isinstance(message, dict):
        return str(message.get("formatted") or message.get("message") or "")
    return str(message or "")


def group_hash(event: dict[str, Any]) -> str:
    fingerprint = event.get("fingerprint")
    if isinstance(fingerprint, list) and fingerprint and fingerprint != ["{{ default }}"]:
        parts = ["fingerprint", *map(str, fingerprint)]
    elif (exc := exception_of(event)) is not None:
        parts = ["exception", str(exc.get("type")), str(exc.get("value"))]
    else:
        parts = ["message", message_of(event) or "<unlabeled event>"]
    return hashlib.md5("\x00".join(parts).encode()).hexdigest()


def title_of(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The issue title and its metadata."""
    exc = exception_of(event)
    if exc is not None:
        kind, value = str(exc.get("type") or "Error"), str(exc.get("value") or "")
        return (f"{kind}: {value}" if value else kind), {"type": kind, "value": value}
    message = message_of(event) or "<unlabeled event>"
    return message.splitlines()[0][:200], {"title": message}


def culprit_of(event: dict[str, Any]) -> str:
    if event.get("transaction"):
        return str(event["transaction"])
    exc = exception_of(event) or {}
    frames = ((exc.get("stacktrace") or {}).get("frames") or []) if isinstance(exc, dict) else []
    for frame in reversed(frames):
        if isinstance(frame, dict) and frame.get("in_app", True):
            return f"{frame.get('module') or frame.get('filename') or '?'} in " \
                   f"{frame.get('function') or '?'}"
    return ""


def tags_of(event: dict[str, Any]) -> list[list[str]]:
    tags = event.get("tags") or {}
    pairs = list(tags.items()) if isinstance(tags, dict) else [
        t for t in tags if isinstance(t, (list, tuple)) and len(t) == 2]
    out = {str(k): str(v) for k, v in pairs}
    for key in ("environment", "release", "level", "platform"):
        if event.get(key):
            out.setdefault(key, str(event[key]))
    user = event.get("user") or {}
    if isinstance(user, dict) and (user.get("id") or user.get("email")):
        out.setdefault("user", f"id:{user['id']}" if user.get("id") else f"email:{user['email']}")
    return sorted([k, v] for k, v in out.items())


def user_key(event: dict[str, Any]) -> str | None:
    user = event.get("user") or {}
    if isinstance(user, dict):
        ident = user.get("id") or user.get("email") or user.get("ip_address")
        return str(ident) if ident else None
    return None


def event_as_dict(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise EnvelopeError("an event must be a JSON object")
    return raw
