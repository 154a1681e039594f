"""The catalogue of shape checks: what runs, about which kind, and whether it writes
(`--read-only` runs only those that do not). Adding a check is one line here."""

from __future__ import annotations

from dataclasses import dataclass

from ..kinds.registry import all_kinds
from .contract import (
    ContractCheck,
    ContractContext,
    exact_duplicate,
    external_issue_listings,
    list_shape,
    pagination_link,
    rate_limit_headers,
    release_208,
    slack_task,
    threshold_translation,
)
from .traps import aggregate_display, event_types_detail_only, issue_rule_read_forms


@dataclass(frozen=True)
class Check:
    name: str
    kind: str | None
    writes: bool
    run: ContractCheck


def _list_check(kind_name: str) -> ContractCheck:
    async def check(ctx: ContractContext) -> str:
        return await list_shape(ctx, kind_name)
    return check


def catalogue() -> list[Check]:
    """Every shape check; one `list` check per registered kind (new kinds included)."""
    checks = [Check("list", k.name, False, _list_check(k.name)) for k in all_kinds()]
    return checks + [
        Check("pagination-link", None, False, pagination_link),
        Check("rate-limit-headers", None, False, rate_limit_headers),
        # writes a link only outside --read-only; reads the listings either way
        Check("external-issue-listings", "external_issue_link", False, external_issue_listings),
        Check("release-208", "release", True, release_208),
        Check("exact-duplicate-400", "issue_alert", True, exact_duplicate),
        Check("threshold-translation", "metric_alert", True, threshold_translation),
        Check("slack-202-task", "metric_alert", True, slack_task),
        Check("aggregate-display", "metric_alert", True, aggregate_display),
        Check("event-types-detail-only", "metric_alert", True, event_types_detail_only),
        Check("issue-rule-read-forms", "issue_alert", True, issue_rule_read_forms),
    ]
