"""Settings of one emulator instance: target org, auth, rate limits, faults and quirks.

Everything here is a plain dataclass so the CLI, the tests and the admin endpoints can
build, copy and update it field by field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class RateLimitSettings:
    """Per-endpoint limits (route template + method), as Sentry's middleware applies them.

    `limit` 0 means no fixed-window limit, `concurrency` 0 no concurrent limit. When
    `enabled` is false the headers still go out, with Sentry's generous defaults.
    """

    enabled: bool = False
    limit: int = 0
    window: int = 1
    concurrency: int = 0
    # per endpoint, e.g. {"POST /api/0/projects/{org}/{project}/rules/": {"limit": 5}}:
    # keys of `limit`, `window`, `concurrency` that replace the defaults above for it
    overrides: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class FaultSettings:
    """Injected misbehaviour; every rate is a probability in [0, 1]."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_ms: int = 0
    lost_response_rate: float = 0.0
    lost_response_mode: str = "502"  # "502" or "drop"
    route: str | None = None  # substring of the path a fault applies to; None = every route
    # comma-separated HTTP methods a fault applies to ("POST,PUT,DELETE" fails writes while
    # reads succeed); None = every method
    methods: str | None = None
    seed: int | None = None  # makes the dice deterministic for tests


@dataclass
class QuirkSettings:
    """Sentry's awkward habits; each on by default, switchable off for focused tests."""

    reorder_nodes: bool = True  # issue-rule nodes and metric-rule actions in server order
    node_names: bool = True  # issue-rule nodes get a rendered `name`
    string_numbers: bool = True  # ChoiceField ids (workspace, account, ...) stored as strings
    fill_defaults: bool = True  # filterMatch/actionMatch "all", frequency 30, form-added keys
    slack_async: bool = True  # Slack rules answered 202 + task uuid
    slack_task_delay: float = 0.2  # seconds after which a task is due: the next request
    # finishes it, polled or not (Sentry's worker runs it in the background)
    slack_task_polls: int = 2  # ...or a poll finishes it on this poll, whichever comes first
    whitespace: bool = True  # strip surrounding whitespace of string node values
    translate_thresholds: bool = True  # off: percent-change thresholds are answered as
    # stored (100 ± x), as a server that forgot `translate_threshold` would (a broken shape
    # for contract tests; REFERENCE.md §1.3)
    discover_list_as_object: bool = False  # on: the saved-query list is answered
    # `{"results": [...]}` instead of an array (a broken shape for contract tests)
    channel_listing: bool = True  # off: integrations/{id}/channels/ answers 404, as a Sentry
    # that predates the listing does (clients then meet the 202 Slack lookup path)


@dataclass
class AlertingSettings:
    """Where the org stands in Sentry's move to workflows (routes/alert_migration.py)."""

    migrated: bool = False  # legacy rules auto-migrated into workflows/detectors
    legacy_retired: bool = False  # legacy rule endpoints answer 410


@dataclass
class EmulatorConfig:
    db_path: str = ":memory:"
    token: str | None = None  # None: any non-empty Bearer token is accepted
    read_only_tokens: list[str] = field(default_factory=list)  # GET only; writes answer 403
    organization: str = "acme"
    projects: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)
    quirks: QuirkSettings = field(default_factory=QuirkSettings)
    alerting: AlertingSettings = field(default_factory=AlertingSettings)
    # Sentry's per-project caps on issue rules with "slow" (frequency) conditions and on
    # the others; 0 turns a cap off
    max_slow_issue_rules: int = 100
    max_fast_issue_rules: int = 500
    max_body_bytes: int = 1024 * 1024
    max_envelope_bytes: int = 20 * 1024 * 1024
    public_url: str | None = None  # base URL used in Link headers and DSNs when known


def settings_dict(settings: Any) -> dict[str, Any]:
    """A JSON-ready dict of a settings dataclass."""
    data = asdict(settings)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def update_settings(settings: Any, changes: dict[str, Any]) -> list[str]:
    """Apply `changes` to a settings dataclass in place; returns the unknown keys (not applied)."""
    known = {f.name: f for f in fields(settings)}
    unknown = [key for key in changes if key not in known]
    for key, value in changes.items():
        if key not in known:
            continue
        current = getattr(settings, key)
        if value is None and "None" in str(known[key].type):
            setattr(settings, key, None)
            continue
        if isinstance(current, tuple):
            if not isinstance(value, list) or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 100 <= v <= 599
                    for v in value):
                raise ValueError(f"{key} must be a list of HTTP statuses")
            value = tuple(value)
        elif isinstance(current, bool) and not isinstance(value, bool):
            raise ValueError(f"{key} must be a boolean")
        elif isinstance(current, (int, float)) and not isinstance(current, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(f"{key} must be a number")
        elif isinstance(current, dict) and not (isinstance(value, dict) and all(
                isinstance(v, dict) for v in value.values())):
            raise ValueError(f"{key} must be a mapping of mappings")
        elif isinstance(current, str) and not isinstance(value, str):
            raise ValueError(f"{key} must be a string")
        setattr(settings, key, value)
    return unknown
