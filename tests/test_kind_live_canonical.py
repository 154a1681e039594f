"""The alert kinds' live comparison form (`canonical_live`, built straight from Sentry's
JSON) equals the round trip `canonical(entry_from_live(data))` for every live object:
generated ones (hypothesis) and the ones the emulator returns. The round trip is the oracle
here and only here. Where it raises, the direct form raises too or hands the object to it
(`Fallback`); it never answers on its own."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dexter_sync.core.directory import Directory, Integration
from dexter_sync.kinds.base import Fallback, ResourceKind
from dexter_sync.kinds.issue_alerts import IssueAlertKind
from dexter_sync.kinds.issue_alerts import canonical as issue_canonical
from dexter_sync.kinds.issue_alerts.model import IssueAlertEntry
from dexter_sync.kinds.issue_alerts.nodes import CATALOGUE
from dexter_sync.kinds.metric_alerts import MetricAlertKind
from dexter_sync.kinds.metric_alerts import canonical as metric_canonical
from dexter_sync.kinds.metric_alerts.actions import ACTION_TYPES, TARGET_TYPES
from dexter_sync.kinds.metric_alerts.model import MetricAlertEntry
from tests import test_kind_issue_alerts as issue_tests
from tests import test_kind_metric_alerts as metric_tests
from tests.helpers_alerts import seeded_alert_app

METRIC, ISSUE = MetricAlertKind(), IssueAlertKind()
DIRECT = {"metric_alert": metric_canonical.canonical_live,
          "issue_alert": issue_canonical.canonical_live}
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _directory() -> Directory:
    return Directory(
        organization="acme",
        projects={"backend": "4505100000000001", "frontend": "4505100000000002"},
        teams={"platform": "1001"},
        members={"alice@example.com": "2001"},
        integrations={
            "24001": Integration("24001", "Acme Slack", "slack"),
            "24002": Integration("24002", "Acme PD", "pagerduty"),
            "24003": Integration("24003", "Acme Opsgenie", "opsgenie"),
            "24004": Integration("24004", "Acme Teams", "msteams"),
            "24005": Integration("24005", "Acme Discord", "discord"),
            "24006": Integration("24006", "Acme Jira", "jira"),
            "24007": Integration("24007", "Acme Jira Server", "jira_server"),
            "24008": Integration("24008", "acme-github", "github"),
            "24009": Integration("24009", "Acme DevOps", "vsts"),
            "24010": Integration("24010", "acme-ghe", "github_enterprise"),
        },
        environments={"production"},
        slack_channels={("24001", "#alerts"): "C0ALERTS01"},
    )


DIRECTORY = _directory()


# ---- the comparison -----------------------------------------------------------------------

def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as error:  # noqa: BLE001 - the kind of failure is what is compared
        return "error", type(error)


def _same(a: Any, b: Any) -> bool:
    """Equal, and equal as JSON text in insertion order (the fingerprint's input)."""
    return a == b and json.dumps(a, default=repr) == json.dumps(b, default=repr)


def check_equivalent(kind: ResourceKind, data: dict[str, Any], directory: Directory) -> bool:
    """Asserts the hook == the round trip for one live object; True when the direct form
    answered (without handing the object to the round trip)."""
    before = copy.deepcopy(data)
    default = _outcome(lambda: kind.canonical(kind.entry_from_live(data, directory=directory),
                                              directory=directory))
    hook = _outcome(lambda: kind.canonical_live(data, directory=directory))
    assert hook[0] == default[0], (hook, default)
    if default[0] == "ok":
        assert _same(hook[1], default[1]), (hook[1], default[1])
    else:
        assert hook[1] is default[1]
    direct = _outcome(lambda: DIRECT[kind.name](data, directory))
    assert data == before  # neither path changes the live object
    if direct[0] == "ok":  # the direct form answers only where the round trip answers the same
        assert default[0] == "ok" and _same(direct[1], default[1]), (direct, default)
        return True
    return False


def check_batch(kind: ResourceKind, objects: list[dict[str, Any]], directory: Directory) -> int:
    """Every object in turn (as the planner reads them); how many the direct form answered."""
    return sum(check_equivalent(kind, data, directory) for data in objects)


# ---- live metric alerts -------------------------------------------------------------------

def _metric_payloads() -> list[dict[str, Any]]:
    rules = [*metric_tests.EMULATOR_RULES, metric_tests.FRIENDLY, metric_tests.SENTRY_FORM]
    return [METRIC.build_payload(MetricAlertEntry.model_validate(r), directory=DIRECTORY)
            for r in rules]


METRIC_LIVE = [metric_tests.live_of(p) for p in _metric_payloads()]
METRIC_ACTIONS = [a for rule in METRIC_LIVE for t in rule["triggers"] for a in t["actions"]]

ANY_SCALAR = st.sampled_from([None, "", "  ", 0, 1, 2, -1, 1.5, "1", "abc", True, [], {}])
IDENT = st.sampled_from(["#alerts", "alerts", "@alice", "C0ALERTS01", "1001", 1001, "platform",
                         " platform ", "2001", 2001, "alice@example.com", "Alice@Example.com",
                         9823924, "9823924", "ops-1", " General ", "94732897", None, "", "999"])
INTEGRATION_ID = st.sampled_from(["24001", 24001, "24002", 24002, 24003, "24004", 24005, None,
                                  "999", 999, "Acme Slack", ""])
SETTING_LIST = st.sampled_from([None, [], [{"name": "t", "value": 1}],
                                [{"name": "b", "value": "x"}, {"name": "a", "value": None}]])


def _generated_action() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "id": st.sampled_from(["190001", 190002, "x"]),
        "type": st.sampled_from([*ACTION_TYPES, "bogus", None]),
        "targetType": st.sampled_from([*TARGET_TYPES, "bogus", None]),
        "targetIdentifier": IDENT,
        "integrationId": INTEGRATION_ID,
        "inputChannelId": st.sampled_from([None, "C0ALERTS01", "C0OTHER", ""]),
        "priority": st.sampled_from([None, "critical", "warning", "error", "info", "P1", "P2",
                                     "P5", "bogus", ""]),
        "sentryAppId": st.sampled_from([None, 12, "12", 0]),
        "sentryAppInstallationUuid": st.sampled_from([None, "a1b2"]),
        "settings": SETTING_LIST,
        "dateCreated": st.just("2026-11-26T09:00:00Z"),
        "desc": st.just("notify"),
    })


ACTION = st.one_of(st.sampled_from(METRIC_ACTIONS), _generated_action())
TRIGGER = st.fixed_dictionaries(
    {"label": st.sampled_from(["critical", "critical", "warning", "other", None]),
     "actions": st.lists(ACTION, max_size=4)},
    optional={"alertThreshold": st.sampled_from([100, 100.0, "100", " 80 ", 10.5,
                                                 10.099999999999994, 1e20, 2 ** 60, "abc",
                                                 None, True, float("inf"), [1]]),
              "id": st.sampled_from(["180000", 7]), "thresholdType": st.just(0)})

METRIC_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["rule", " rule ", "", "   ", 5, None, "x" * 257, "x" * 256]),
    "aggregate": st.sampled_from(["count()", " count( ) ", "count_unique(tags[sentry:user])",
                                  "", None, 5, "p95(transaction.duration)"]),
    "query": st.sampled_from(["", "level:error", "  a   b ", None, 5]),
    "projects": st.sampled_from([[], ["backend"], ["frontend", "backend"], None, [5],
                                 ["backend", 5], "backend"]),
    "dataset": st.sampled_from([None, "", "events", "transactions", "generic_metrics",
                                "metrics", "events_analytics_platform", "bogus", 3]),
    "queryType": st.sampled_from([None, 0, 1, 2, 3, "error", "x", True, 1.0]),
    "eventTypes": st.sampled_from([None, [], ["error"], ["transaction", "error", "error"],
                                   ["bogus"], "error", ("error",), [5]]),
    "timeWindow": st.sampled_from([5, 5.0, "5", 60.0, 1440.0, 1441, 0, -1, 2.5, 0.5, None, True,
                                   "x", 30]),
    "thresholdType": st.sampled_from([0, 1, 2, None, "1", 3, 1.0]),
    "thresholdPeriod": st.sampled_from([1, 20, 21, 0, None, "3", 2.7]),
    "resolveThreshold": st.sampled_from([None, 50, 50.0, "50", "abc", 10.099999999999994, True,
                                         0]),
    "comparisonDelta": st.sampled_from([None, 10080, 10080.0, 60, 0, 200000, "60", 1.5]),
    "environment": st.sampled_from([None, "production", "", 5]),
    "owner": st.sampled_from([None, "", "team:1001", "team:platform", "user:2001", "team:77",
                              "user:Alice@Example.com", " team:1001 ", "bogus", 7, "user:"]),
    "description": st.sampled_from([None, "", "  ", " paged ", 5]),
    "detectionType": st.sampled_from([None, "static", "percent", "dynamic", "bogus", 5]),
    "sensitivity": st.sampled_from([None, "low", "high", "bogus", 5]),
    "seasonality": st.sampled_from([None, "auto", 5]),
    "extrapolationMode": st.sampled_from([None, "unknown", "none", "bogus"]),
    "triggers": st.lists(TRIGGER, max_size=3),
}


@st.composite
def live_metric_alert(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic live rule with some fields replaced by odd values, dropped, or reordered."""
    data = copy.deepcopy(draw(st.sampled_from(METRIC_LIVE)))
    for key in draw(st.lists(st.sampled_from(sorted(METRIC_FIELDS)), max_size=5, unique=True)):
        data[key] = draw(METRIC_FIELDS[key])
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=2, unique=True)):
        del data[key]
    if draw(st.booleans()) and isinstance(data.get("triggers"), list):
        data["triggers"] = data["triggers"][::-1]
        for trigger in data["triggers"]:
            if isinstance(trigger.get("actions"), list):
                trigger["actions"] = trigger["actions"][::-1]
    data[draw(st.sampled_from(["resolution", "status", "snooze"]))] = draw(ANY_SCALAR)
    return data


@SETTINGS
@given(st.lists(live_metric_alert(), min_size=1, max_size=8))
def test_metric_alert_live_form_equals_round_trip(objects):
    check_batch(METRIC, objects, DIRECTORY)


def test_metric_alert_live_form_answers_for_sentry_shaped_rules():
    """Not a form that always falls back: every realistic live rule is answered directly."""
    assert check_batch(METRIC, METRIC_LIVE, DIRECTORY) == len(METRIC_LIVE)


# ---- live issue alerts --------------------------------------------------------------------

def _issue_payloads() -> list[dict[str, Any]]:
    rules = [issue_tests.EVERY_NODE, issue_tests.FRIENDLY, issue_tests.SENTRY_FORM,
             *issue_tests._emulator_rules()]
    out = []
    for rule in rules:
        payload = ISSUE.build_payload(IssueAlertEntry.model_validate(rule), directory=DIRECTORY)
        out.append({**payload, "projects": [rule["project"]]})
    return out


ISSUE_PAYLOADS = _issue_payloads()
NODES = {name: [n for p in ISSUE_PAYLOADS for n in p[name]]
         for name in ("conditions", "filters", "actions")}
UNKNOWN = {"id": "sentry.rules.conditions.future.FutureCondition", "value": " 5 ", "empty": "",
           "none": None}


def test_every_catalogue_node_is_generated():
    ids = {n["id"] for nodes in NODES.values() for n in nodes}
    assert ids == {spec.id for spec in CATALOGUE}


@st.composite
def live_node(draw: st.DrawFn, list_name: str) -> dict[str, Any]:
    """A node of this list (sometimes of another), with values as Sentry may return them."""
    pool = NODES[draw(st.sampled_from([list_name] * 4 + sorted(NODES)))]
    node = copy.deepcopy(draw(st.sampled_from([*pool, UNKNOWN])))
    for key in draw(st.lists(st.sampled_from(sorted(node)), max_size=2, unique=True)):
        value = node[key]
        change = draw(st.sampled_from(["str", "int", "float", "drop", "blank", "pad", "odd"]))
        if change == "str":
            node[key] = str(value)
        elif change == "int" and isinstance(value, str) and value.strip().isdigit():
            node[key] = int(value)
        elif change == "float" and isinstance(value, (int, str)) and str(value).isdigit():
            node[key] = float(value)
        elif change == "drop" and key != "id":
            del node[key]
        elif change == "blank":
            node[key] = draw(st.sampled_from(["", None]))
        elif change == "pad" and isinstance(value, str):
            node[key] = f" {value} "
        elif change == "odd":
            node[key] = draw(ANY_SCALAR)
    if draw(st.booleans()):
        node["name"] = "rendered label"
    if list_name == "actions" and draw(st.booleans()):
        node["uuid"] = draw(st.sampled_from(["00000000-0000-4000-8000-000000000001", "u2"]))
    return node


ISSUE_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": METRIC_FIELDS["name"],
    "projects": st.sampled_from([["backend"], ["frontend"], [], None, [""], [5], "backend"]),
    "frequency": st.sampled_from([30, 60.0, "60", 4, 5, 43200, 43201, None, 2.5, 7.5, True, "x"]),
    "actionMatch": st.sampled_from([None, "", "all", "any", "none", "bogus", 1]),
    "filterMatch": st.sampled_from([None, "", "all", "any", "none", "bogus"]),
    "environment": st.sampled_from([None, "production", "", 5]),
    "owner": METRIC_FIELDS["owner"],
    "conditions": st.lists(live_node("conditions"), max_size=4),
    "filters": st.lists(live_node("filters"), max_size=4),
    "actions": st.lists(live_node("actions"), max_size=4),
}


@st.composite
def live_issue_alert(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(draw(st.sampled_from(ISSUE_PAYLOADS)))
    data.update({"id": "7", "dateCreated": "2026-11-26T09:00:00Z", "createdBy": None,
                 "status": "active", "snooze": False})
    for key in draw(st.lists(st.sampled_from(sorted(ISSUE_FIELDS)), max_size=5, unique=True)):
        data[key] = draw(ISSUE_FIELDS[key])
    for key in draw(st.lists(st.sampled_from(sorted(data)), max_size=2, unique=True)):
        del data[key]
    for name in ("conditions", "filters", "actions"):
        if isinstance(data.get(name), list) and draw(st.booleans()):
            data[name] = data[name][::-1]
    return data


@SETTINGS
@given(st.lists(live_issue_alert(), min_size=1, max_size=8))
def test_issue_alert_live_form_equals_round_trip(objects):
    check_batch(ISSUE, objects, DIRECTORY)


def test_issue_alert_live_form_answers_for_sentry_shaped_rules():
    live = [{**p, "conditions": [{**n, "name": "label"} for n in p["conditions"]][::-1]}
            for p in ISSUE_PAYLOADS]
    assert check_batch(ISSUE, live, DIRECTORY) == len(live)


@pytest.mark.parametrize("kind", [METRIC, ISSUE])
def test_fallback_for_objects_the_entry_model_refuses(kind):
    """The round trip's errors stay its own: the direct form steps aside."""
    data = copy.deepcopy(METRIC_LIVE[0] if kind is METRIC else ISSUE_PAYLOADS[0])
    data["name"] = ""
    with pytest.raises(Fallback):
        DIRECT[kind.name](data, DIRECTORY)
    default = _outcome(lambda: kind.canonical(kind.entry_from_live(data, directory=DIRECTORY),
                                              directory=DIRECTORY))
    assert default[0] == "error"
    assert _outcome(lambda: kind.canonical_live(data, directory=DIRECTORY)) == default


# ---- live objects from the emulator (HTTP over httpx's ASGI transport) ---------------------

def _variants(rules: list[dict[str, Any]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rule again under another name with other optional fields."""
    out = list(rules)
    for n, rule in enumerate(rules):
        out.append({**rule, "name": f"{rule['name']} / variant", **extra[n % len(extra)]})
    return out


def test_emulator_metric_alerts_live_form_equals_round_trip():
    from dexter_sync.emulator.testing import asgi_client

    app = seeded_alert_app()
    extra = [{"owner": "user:alice@example.com", "description": " on call "},
             {"environment": "production", "threshold_period": 3},
             {"owner": "team:platform"}]

    async def run() -> tuple[Directory, list[dict[str, Any]], list[Any]]:
        async with asgi_client(app, token="t") as client:
            directory = await metric_tests._read_directory(client, app)
            rules = _variants([*metric_tests.EMULATOR_RULES,
                               metric_tests.sentry_form_for(directory)], extra)
            statuses = []
            for rule in rules:
                body = METRIC.build_payload(MetricAlertEntry.model_validate(rule),
                                            directory=directory)
                response = await client.post("/api/0/organizations/acme/alert-rules/", json=body)
                statuses.append((rule["name"], response.status_code, response.text[:200]))
            live = (await client.get("/api/0/organizations/acme/alert-rules/",
                                     params={"per_page": 100})).json()
            return directory, live, statuses

    directory, live, statuses = asyncio.run(run())
    assert [s for s in statuses if s[1] != 201] == []
    assert len(live) == len(statuses)
    assert check_batch(METRIC, live, directory) == len(live)


def test_emulator_issue_alerts_live_form_equals_round_trip():
    from dexter_sync.emulator.testing import asgi_client

    app = seeded_alert_app()
    store = app.state.store
    org = next(o for o in store.query("org") if o["slug"] == "acme")
    rules = _variants(issue_tests._emulator_rules(),
                      [{"owner": "user:alice@example.com", "frequency": "2h"},
                       {"environment": "production", "filter_match": "none"}])

    async def run() -> tuple[Directory, list[dict[str, Any]], list[Any]]:
        async with asgi_client(app, token="t") as client:
            get = client.get
            directory = Directory(
                organization="acme",
                projects={p["slug"]: p["id"]
                          for p in (await get("/api/0/organizations/acme/projects/")).json()},
                teams={t["slug"]: t["id"]
                       for t in (await get("/api/0/organizations/acme/teams/")).json()},
                members={m["email"]: m["user"]["id"]
                         for m in (await get("/api/0/organizations/acme/members/")).json()},
                integrations={i["id"]: Integration(i["id"], i["name"], i["provider"]["key"])
                              for i in (await get("/api/0/organizations/acme/integrations/")
                                        ).json()},
                environments={"production"},
                slack_channels={(str(c["integrationId"]), "#" + c["name"]): c["channelId"]
                                for c in store.query("slack_channel", org["id"])},
            )
            statuses = []
            for rule in rules:
                body = ISSUE.build_payload(IssueAlertEntry.model_validate(rule),
                                           directory=directory)
                response = await client.post(f"/api/0/projects/acme/{rule['project']}/rules/",
                                             json=body)
                statuses.append((rule["name"], response.status_code, response.text[:200]))
            live = [r for slug in ("backend", "frontend")
                    for r in (await get(f"/api/0/projects/acme/{slug}/rules/")).json()]
            return directory, live, statuses

    directory, live, statuses = asyncio.run(run())
    assert [s for s in statuses if s[1] not in (200, 201)] == []
    assert len(live) == len(statuses)
    assert check_batch(ISSUE, live, directory) == len(live)


# ---- every variant of every node and action (the validity caches keep them apart) ----------

def _variants_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The item, and for each key: its value as text, as a float, padded, and left out."""
    out = [item]
    for key, value in item.items():
        if key in ("id", "type"):
            continue
        out.append({**item, key: str(value)})
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            out.append({**item, key: float(value)})
        if isinstance(value, str):
            out.append({**item, key: f" {value} "})
        out.append({k: v for k, v in item.items() if k != key})
    return out


def test_every_issue_node_variant_equals_round_trip():
    base = {"name": "one node", "projects": ["backend"], "frequency": 30}
    rules = [{**base, "conditions": [], "filters": [], "actions": [], name: [variant]}
             for name, nodes in NODES.items() for node in nodes
             for variant in _variants_of(node)]
    assert len(rules) > 300
    assert check_batch(ISSUE, rules, DIRECTORY) > len(rules) // 2


def test_every_metric_action_variant_equals_round_trip():
    rules = []
    for action in METRIC_ACTIONS:
        for variant in _variants_of(action):
            for label in ("critical", "warning"):
                data = copy.deepcopy(METRIC_LIVE[0])
                data["triggers"] = [{"label": "critical", "alertThreshold": 100, "actions": []}]
                if label == "warning":
                    data["triggers"].append({"label": "warning", "alertThreshold": 80})
                data["triggers"][-1]["actions"] = [variant]
                rules.append(data)
    assert len(rules) > 200
    assert check_batch(METRIC, rules, DIRECTORY) > len(rules) // 2
