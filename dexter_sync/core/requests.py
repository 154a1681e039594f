"""A description of one Sentry API call, built by kinds and executed by the facade.

Kinds stay pure: they say *what* to call (method, path, body); the sentry package decides
*how* (auth, rate limits, retries, pagination).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

Method = Literal["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True)
class ApiRequest:
    method: Method
    path: str
    """Path below `/api/0/`, with a trailing slash, e.g. `organizations/acme/alert-rules/`."""
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def route(self) -> str:
        """The request's method and path, for logs and metrics (never carries secrets)."""
        return f"{self.method} /api/0/{self.path}"


def path_segment(value: str | int) -> str:
    """Encode one path segment (release versions may hold `@`, `+`, spaces)."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class ApiResponse:
    """What Sentry answered to one ApiRequest (a success; errors are raised as SentryError)."""

    status: int
    body: Any
    """Parsed JSON (None for an empty body)."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers, lower-cased names."""
