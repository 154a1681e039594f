"""Fields only a detail response carries (metric alerts' `eventTypes`, REFERENCE §1.5).

List items lack `eventTypes`, so a declared value was never compared. When a manifest
declares it, the plan reads the detail of those rules (concurrently, counted per route in
the `-v` metrics) and shows drift; export writes it where it differs from the default.
"""

from __future__ import annotations

import asyncio

import pytest

from dexter_sync.cli.export import read_for_export
from dexter_sync.core.changes import Action
from dexter_sync.manifest.exporting import build_export
from tests.helpers_org import ORG, Org

TOKEN = "detail-token"
DETAIL_ROUTE = "GET organizations/{org}/alert-rules/{id}/"


def rule(name: str, event_types: str = "") -> str:
    return f"""
  - name: {name}
    project: backend
    aggregate: count()
    time_window: 5m
{event_types}    triggers:
      critical:
        threshold: 100
        actions:
          - email: {{team: backend-team}}
"""


@pytest.fixture
def org(tmp_path):
    created = Org(tmp_path, TOKEN)
    yield created
    asyncio.run(created.close())


def detail_reads(org: Org) -> int:
    route = org.facade.gateway.metrics.routes.get(DETAIL_ROUTE)
    return route.requests if route else 0


def test_declared_event_types_drift_is_planned(org):
    body = ("metric_alerts:" + rule("Declared", "    event_types: [default, error]\n")
            + rule("Undeclared"))

    async def scenario() -> None:
        quiet = await org.converge(body)
        assert not quiet.has_changes
        live = {r["name"]: r for r in await org.live("metric_alert")}
        await org.oob("metric_rule", "update", id=int(live["Declared"]["id"]),
                      fields={"eventTypes": ["error"]})
        before = detail_reads(org)
        plan = await org.plan()
        # one detail read: the rule that declares event_types, not the other one
        assert detail_reads(org) - before == 1
        [change] = plan.changes
        assert (change.action, change.key) == (Action.UPDATE, "Declared")
        assert change.before["event_types"] == ["error"]
        assert change.after["event_types"] == ["default", "error"]
        assert [d.path[0] for d in change.diff] == ["event_types"]

    asyncio.run(scenario())


def test_export_writes_event_types_only_where_they_differ_from_the_default(org):
    async def scenario() -> dict[str, str]:
        org.write("metric_alerts:" + rule("Default") + rule(
            "Custom", "    event_types: [default, error]\n"))
        await org.apply(await org.plan())
        live = await read_for_export(org.facade, ORG, ["metric_alert"])
        return build_export(live, organization=ORG, kinds=["metric_alert"]).files

    files = asyncio.run(scenario())
    text = "".join(v for k, v in files.items() if k.endswith(".yaml") and "schema" not in k)
    custom = text[text.index("name: Custom"):]
    custom = custom[:custom.index("- name:")] if "- name:" in custom else custom
    default = text[text.index("name: Default"):]
    default = default[:default.index("- name:")] if "- name:" in default else default
    assert "event_types:" in custom and "- default" in custom
    assert "event_types" not in default
