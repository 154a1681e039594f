"""Prune fails closed: when one project's rule listing fails (403, 500, or no answer in
time), `dexter plan` and `dexter apply` stop with an error and delete nothing anywhere, not
even in the projects whose listings answered. Counted from the emulator."""

from __future__ import annotations

import pytest

from tests.test_safety_cli import dexter, manifests, writes

RULE = {"actionMatch": "any", "frequency": 30,
        "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
        "actions": [{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}]}
DECLARED = ("issue_alerts:\n  - name: kept\n    project: backend\n"
            "    conditions: [first_seen_event]\n    actions: [{email: {team: backend}}]\n")
FRONTEND_RULES = "/projects/acme/frontend/rules/"


def live_rules(emu) -> dict[str, list[str]]:
    client = emu.client()
    found = {}
    for project in ("backend", "frontend"):
        response = client.get(f"projects/acme/{project}/rules/")
        response.raise_for_status()
        found[project] = sorted(rule["name"] for rule in response.json())
    return found


def seed_undeclared(emu) -> dict[str, list[str]]:
    client = emu.client()
    for project in ("backend", "frontend"):
        for frequency, name in ((30, f"{project} stray"), (60, f"{project} legacy")):
            # distinct bodies: Sentry refuses an exact duplicate; a create answers 200
            created = client.post(f"projects/acme/{project}/rules/",
                                  json={**RULE, "name": name, "frequency": frequency})
            assert created.status_code == 200, created.text
    return live_rules(emu)


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["403", "500", "timeout"])
def test_one_failing_listing_stops_prune_everywhere(emu, tmp_path, failure, monkeypatch):
    path = manifests(tmp_path / "m", DECLARED, prune="prune: {issue_alerts: true}\n")
    before = seed_undeclared(emu)
    # the same manifests prune both projects' strays while every listing answers
    healthy = dexter(emu, "plan", str(path), "--detailed-exitcode")
    assert healthy.returncode == 2, healthy.stdout + healthy.stderr
    assert "delete issue_alert/frontend/frontend stray" in healthy.stdout
    assert "1 to create, 0 to update, 4 to delete" in healthy.stdout

    if failure == "timeout":
        monkeypatch.setenv("DEXTER_REQUEST_DEADLINE", "0.5")
        emu.hold(route=FRONTEND_RULES, methods="GET", timeout=120)
    else:
        emu.set_faults(route=FRONTEND_RULES, methods="GET", error_rate=1.0,
                       error_statuses=[int(failure)])
    emu.reset_counters()
    try:
        plan = dexter(emu, "plan", str(path))
        apply = dexter(emu, "apply", str(path), "--auto-approve")
    finally:
        emu.release_holds()
        emu.clear_faults()
    for result in (plan, apply):
        assert result.returncode == 1, result.stdout + result.stderr
        assert "frontend" in result.stderr and "Traceback" not in result.stderr
    assert writes(emu) == 0  # nothing deleted (nor written) anywhere
    assert live_rules(emu) == before
