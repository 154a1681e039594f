"""An in-process emulator seeded with every name the alert-kind tests use (projects, team,
member, environment, one integration per alert-action provider, a Slack channel)."""

from __future__ import annotations

from typing import Any

from dexter_sync.emulator import EmulatorConfig, create_app

ALERT_INTEGRATIONS = [
    ("slack", "Acme Slack"), ("pagerduty", "Acme PD"), ("opsgenie", "Acme Opsgenie"),
    ("msteams", "Acme Teams"), ("discord", "Acme Discord"), ("jira", "Acme Jira"),
    ("jira_server", "Acme Jira Server"), ("github", "acme-github"), ("vsts", "Acme DevOps")]


def seeded_alert_app(token: str = "t") -> Any:
    """The emulator app (token `t`) with the alert tests' names created."""
    app = create_app(EmulatorConfig(token=token))
    app.state.store.ensure_names(
        "acme", projects=["backend", "frontend"], teams=["platform"],
        members=["alice@example.com"], environments=["production"],
        integrations=ALERT_INTEGRATIONS, slack_channels=[("Acme Slack", "#alerts")])
    return app
