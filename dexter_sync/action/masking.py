"""The step's secrets (the Sentry and GitHub tokens), masked in everything it prints or
writes. Its own small list rather than dexter_sync.sentry's: importing that package loads
the whole Sentry stack, a second of start-up on every step for two string replacements."""

from __future__ import annotations

from collections.abc import Mapping

SECRET_VARIABLES = ("SENTRY_AUTH_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
MASK = "[redacted]"
MIN_LENGTH = 6
"""Shorter values are not masked: masking a 2-character token would shred every message."""
_secrets: list[str] = []


def register_secrets(env: Mapping[str, str]) -> None:
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value and len(value) >= MIN_LENGTH and value not in _secrets:
            _secrets.append(value)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text
