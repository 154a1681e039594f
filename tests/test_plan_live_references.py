"""Plan-time references resolved from Sentry: Slack channel names become ids from Sentry's
channel listing, so the payloads apply sends carry the id (no asynchronous 202 lookup); a
channel that does not exist, or an issue Sentry answers 404 for, is a plan-time reference
error with the manifest's file:line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from dexter_sync.core.changes import Action
from dexter_sync.core.diagnostics import ValidationError

from .helpers_org import Org

TOKEN = "channels-test-token"

RULES = """
metric_alerts:
  - name: Errors
    project: backend
    aggregate: count()
    time_window: 5m
    triggers:
      critical:
        threshold: 10
        actions:
          - slack: {{channel: "{metric_channel}", workspace: acme-slack}}
issue_alerts:
  - name: New issues
    project: backend
    conditions: [first_seen_event]
    actions:
      - slack: {{channel: "{issue_channel}", workspace: acme-slack}}
"""


def channel_id(org: Org, name: str) -> str:
    """The channel's id as Sentry's own listing answers it (read over HTTP)."""
    async def read() -> str:
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=org.app),
                                base_url="http://emulator.test/api/0/",
                                headers={"Authorization": f"Bearer {TOKEN}"})
        async with api:
            integrations = (await api.get("organizations/acme/integrations/")).json()
            slack = next(i for i in integrations if i["name"] == "acme-slack")
            listing = await api.get(f"organizations/acme/integrations/{slack['id']}/channels/")
            return next(c["id"] for c in listing.json()["results"]
                        if c["name"] == name.lstrip("#"))
    return asyncio.run(read())


def test_payloads_carry_channel_ids_read_from_the_listing(tmp_path: Path) -> None:
    org = Org(tmp_path, TOKEN)
    org.write(RULES.format(metric_channel="#alerts", issue_channel="alerts"))
    plan = asyncio.run(org.plan())
    creates = {c.kind: c for c in plan.changes if c.action is Action.CREATE}
    expected = channel_id(org, "#alerts")
    metric_action = creates["metric_alert"].payload["triggers"][0]["actions"][0]
    assert metric_action["inputChannelId"] == expected
    issue_action = creates["issue_alert"].payload["actions"][0]
    assert issue_action["channel_id"] == expected

    asyncio.run(org.apply(plan))  # Org.apply asserts every answer is < 300: no 202 task
    assert not asyncio.run(org.plan()).has_changes


def test_a_channel_missing_from_the_listing_is_a_reference_error(tmp_path: Path) -> None:
    org = Org(tmp_path, TOKEN)
    org.write(RULES.format(metric_channel="#alerst", issue_channel="#alerts"))
    with pytest.raises(ValidationError) as caught:
        asyncio.run(org.plan())
    text = str(caught.value)
    assert "Slack channel '#alerst' does not exist" in text
    assert "r.yaml:" in text and "#alerts" in text  # the position and the closest name


def test_a_link_to_an_issue_sentry_does_not_have_is_a_reference_error(tmp_path: Path) -> None:
    """The issue's link listing answers 404: a plan-time error, not a create that fails."""
    org = Org(tmp_path, TOKEN)
    org.app.state.store.ensure_names("acme", integrations=[("jira", "acme-jira")])
    org.write("""
        integration_links:
          - type: external_issue
            issue: BACKEND-4040
            integration: acme-jira
            key: OPS-1
        """)
    with pytest.raises(ValidationError) as caught:
        asyncio.run(org.plan())
    assert "issue 'BACKEND-4040' does not exist in acme" in str(caught.value)
    assert "r.yaml:" in str(caught.value)
