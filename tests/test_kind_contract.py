"""The kind contract is declared on `ResourceKind` and core takes the kinds as a catalog:
the hooks that replaced kind names in core, sentry and apply answer for each kind."""

from __future__ import annotations

from typing import Any

import pytest

from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.core.contract import KindCatalog
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory
from dexter_sync.core.state import LiveObject, LiveState
from dexter_sync.kinds.registry import (
    KIND_MODULES,
    all_kinds,
    catalog,
    get_kind,
    kinds_in_section,
    register,
    sections,
)
from dexter_sync.sentry.reading import learn_slack_channels
from dexter_sync.sentry.routes import route_template


def test_the_catalog_orders_dependencies_first_and_refuses_unknown_kinds() -> None:
    kinds = catalog()
    order = kinds.apply_order()
    assert sorted(order) == sorted(k.name for k in all_kinds())
    assert order.index("release") < order.index("deploy")
    with pytest.raises(DexterError) as raised:
        kinds.get("no_such_kind")
    assert raised.value.code == "unknown-kind"


def test_the_registry_table_names_each_kind_modules_section() -> None:
    """The loader lists sections and imports a section's kinds from KIND_MODULES alone."""
    by_module = {type(k).__module__: k for k in all_kinds()}
    assert sorted(by_module) == sorted(KIND_MODULES)
    assert {m: k.section for m, k in by_module.items()} == KIND_MODULES
    assert sections() == list(dict.fromkeys(KIND_MODULES.values()))
    assert [k.name for k in kinds_in_section("releases")] == ["release"]  # not its deploys


def test_a_kind_in_another_section_than_the_table_says_is_refused() -> None:
    misplaced = type(get_kind("release"))()
    misplaced.name, misplaced.section = "misplaced_release", "monitors"
    with pytest.raises(DexterError, match="not 'releases' as KIND_MODULES says"):
        register(misplaced)
    assert "misplaced_release" not in [k.name for k in all_kinds()]


def test_a_dependency_cycle_is_refused() -> None:
    class Loop:
        def __init__(self, name: str, dep: str) -> None:
            self.name, self.depends_on = name, (dep,)

    with pytest.raises(DexterError) as raised:
        KindCatalog([Loop("a", "b"), Loop("b", "a")])  # type: ignore[list-item]
    assert raised.value.code == "kind-cycle"


def test_task_endpoints_and_route_ids_are_declared_by_the_kinds() -> None:
    assert get_kind("metric_alert").task_segment == "alert-rule-task"
    assert get_kind("issue_alert").task_segment == "rule-task"
    assert get_kind("release").task_segment is None
    # a release version that looks like a word is still an id after `releases/`
    assert route_template("organizations/acme/releases/latest/") == \
        "organizations/{org}/releases/{id}/"
    assert route_template("projects/acme/web/alert-rule-task/abc/") == \
        "projects/{org}/{project}/alert-rule-task/{id}/"


def test_gates_come_from_the_kind_of_each_change() -> None:
    silent = ResourceChange(action=Action.CREATE, kind="metric_alert", key="m",
                            payload={"triggers": [{"label": "critical", "actions": []}]})
    quiet_release = ResourceChange(action=Action.CREATE, kind="release", key="1.0",
                                   payload={"version": "1.0"})
    assert [f.code for f in get_kind("metric_alert").safety_findings(silent)] == ["no-action"]
    assert get_kind("release").safety_findings(quiet_release) == []


def test_slack_channel_ids_are_learned_through_each_kinds_hook() -> None:
    metric: dict[str, Any] = {"triggers": [{"actions": [
        {"type": "slack", "integrationId": 24001, "targetIdentifier": "alerts",
         "inputChannelId": "C01"},
        {"type": "email", "targetIdentifier": "7"}]}]}
    issue: dict[str, Any] = {"actions": [
        {"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
         "workspace": "24001", "channel": "#ops", "channel_id": "C02"}]}
    release: dict[str, Any] = {"version": "1.0", "channel_id": "C03", "workspace": "1",
                               "channel": "#nope"}
    live = LiveState(Directory("acme"), {
        "metric_alert": [LiveObject("metric_alert", "m", "1", metric)],
        "issue_alert": [LiveObject("issue_alert", "web/i", "2", issue)],
        "release": [LiveObject("release", "1.0", "1.0", release)],
    })
    learn_slack_channels(live)
    assert live.directory.slack_channels == {("24001", "#alerts"): "C01",
                                             ("24001", "#ops"): "C02"}


def test_only_issue_alerts_read_an_existing_rule_from_a_rejected_create() -> None:
    body = {"name": ["This rule is an exact duplicate"], "ruleId": ["9"]}
    assert get_kind("issue_alert").existing_id_from_rejection(body) == "9"
    assert get_kind("issue_alert").existing_id_from_rejection({"ruleId": []}) is None
    assert [k.name for k in all_kinds() if k.existing_id_from_rejection(body)] == ["issue_alert"]
