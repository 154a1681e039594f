"""Issue alert rules on the emulator: validation (REFERENCE.md §2.1), node cleaning and
labels, Sentry's awkward habits (each switchable), the exact-duplicate check, Slack tasks."""

from __future__ import annotations

import pytest

URL = "projects/acme/backend/rules/"
FIRST_SEEN = {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}
FREQUENCY = {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
             "value": "100", "interval": "1h"}
ATTRIBUTE = {"id": "sentry.rules.conditions.event_attribute.EventAttributeCondition",
             "attribute": "message", "match": "co", "value": "  timeout  "}
LEVEL = {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": 40}
EMAIL = {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners",
         "fallthroughType": "ActiveMembers"}
SLACK = {"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
         "workspace": 24000, "channel": "alerts", "channel_id": "C00000001"}


def body(**changes) -> dict:
    rule = {"name": "New issues", "actionMatch": "all", "frequency": 30,
            "conditions": [FIRST_SEEN], "actions": [EMAIL]}
    rule.update(changes)
    return rule


INVALID = [
    ("no actions", body(actions=[]),
     {"actions": ["You must add an action for this alert to fire."]}),
    ("frequency 4", body(frequency=4),
     {"frequency": ["Ensure this value is greater than or equal to 5."]}),
    ("frequency 43201", body(frequency=43201),
     {"frequency": ["Ensure this value is less than or equal to 43200."]}),
    ("filters without filterMatch", body(filters=[LEVEL]),
     {"filterMatch": ["Must select a filter match (all, any, none) if filters are supplied."]}),
    ("unknown node", body(conditions=[{"id": "sentry.rules.conditions.nope.Nope"}]),
     {"conditions": ["Invalid node. Could not find 'sentry.rules.conditions.nope.Nope'"]}),
    ("action as condition", body(conditions=[EMAIL]),
     {"conditions": [f"Invalid node. Could not find '{EMAIL['id']}'"]}),
    ("missing required form field", body(conditions=[{**FREQUENCY, "value": None}]),
     {"conditions": [("Ensure at least one action is enabled and all required fields are "
                     "filled in.")]}),
    ("fractional count", body(conditions=[{**FREQUENCY, "value": 1.5}]),
     {"conditions": ["Enter a whole number."]}),
    ("unknown environment", body(environment="nowhere"),
     {"environment": ["This environment has not been created."]}),
    ("missing name", {k: v for k, v in body().items() if k != "name"},
     {"name": ["This field is required."]}),
]


@pytest.mark.parametrize("case, payload, expected", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_rules_get_sentrys_400_bodies(emulator, case, payload, expected):
    response = emulator.client().post(URL, json=payload)
    assert response.status_code == 400
    assert response.json() == expected


def test_create_answers_200_with_sentrys_normalizations(emulator):
    client = emulator.client()
    response = client.post(URL, json=body(
        conditions=[FREQUENCY, FIRST_SEEN, ATTRIBUTE], filters=[LEVEL], filterMatch=None,
        actions=[SLACK, EMAIL], actionMatch="any"))
    # filters without filterMatch is refused; send it, then check the rest
    assert response.status_code == 400
    response = client.post(URL, json=body(
        conditions=[FREQUENCY, FIRST_SEEN, ATTRIBUTE], filters=[LEVEL], filterMatch="any",
        actions=[SLACK, EMAIL], actionMatch="any"))
    assert response.status_code == 200, response.text
    rule = response.json()
    ids = [c["id"] for c in rule["conditions"]]
    assert ids == sorted([FREQUENCY["id"], FIRST_SEEN["id"]])  # reordered by the server
    assert [f["id"] for f in rule["filters"]] == sorted([ATTRIBUTE["id"], LEVEL["id"]])
    frequency = next(c for c in rule["conditions"] if c["id"] == FREQUENCY["id"])
    assert frequency["value"] == 100  # "100" cleaned to an int
    assert frequency["name"] == "The issue is seen more than 100 times in 1h"
    attribute = next(f for f in rule["filters"] if f["id"] == ATTRIBUTE["id"])
    assert attribute["value"] == "timeout"  # CharField strips whitespace
    level = next(f for f in rule["filters"] if f["id"] == LEVEL["id"])
    assert level["level"] == "40"  # ChoiceField values come back as strings
    slack = next(a for a in rule["actions"] if a["id"] == SLACK["id"])
    assert slack["workspace"] == "24000" and slack["channel"] == "#alerts"
    assert slack["tags"] == "" and len(slack["uuid"]) == 36
    assert rule["projects"] == ["backend"] and isinstance(rule["createdBy"]["id"], int)


def test_defaults_are_filled_on_read(emulator):
    rule = emulator.client().post(URL, json=body(frequency=None, actionMatch="all")).json()
    # frequency is required by the validator; the default shows only for stored nulls
    assert rule == {"frequency": ["This field is required."]}
    created = emulator.client().post(URL, json=body()).json()
    assert created["filterMatch"] == "all" and created["frequency"] == 30


def test_each_habit_can_be_switched_off(emulator):
    emulator.set_quirks(reorder_nodes=False, node_names=False, string_numbers=False,
                        fill_defaults=False, whitespace=False)
    rule = emulator.client().post(URL, json=body(
        conditions=[FREQUENCY, FIRST_SEEN], filters=[LEVEL, ATTRIBUTE],
        filterMatch="all", actions=[SLACK])).json()
    assert [c["id"] for c in rule["conditions"]] == [FREQUENCY["id"], FIRST_SEEN["id"]]
    assert [f["id"] for f in rule["filters"]] == [LEVEL["id"], ATTRIBUTE["id"]]
    assert all("name" not in node for node in rule["conditions"] + rule["actions"])
    assert rule["actions"][0]["workspace"] == 24000 and "tags" not in rule["actions"][0]
    assert rule["filters"][0]["level"] == 40 and rule["filters"][1]["value"] == "  timeout  "
    emulator.set_quirks(fill_defaults=False)
    bare = emulator.client().post(URL, json=body(frequency=60, name="other")).json()
    assert bare["filterMatch"] is None


def test_exact_duplicate_is_refused_with_rule_id_whatever_the_name(emulator):
    client = emulator.client()
    first = client.post(URL, json=body()).json()
    duplicate = client.post(URL, json=body(name="Another name"))
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "name": [("This rule is an exact duplicate of 'New issues' in this project and may not "
                 "be created.")], "ruleId": [int(first["id"])]}
    assert client.post(URL, json=body(frequency=60)).status_code == 200
    assert client.post("projects/acme/frontend/rules/", json=body()).status_code == 200
    # updating a rule into its own shape is not a duplicate of itself
    assert client.put(f"{URL}{first['id']}/", json=body(name="Renamed")).status_code == 200


def test_action_uuid_kept_when_valid_replaced_otherwise(emulator):
    client = emulator.client()
    kept = "6f1d9b66-08d4-4ae6-9a07-3b9b2a1f1f11"
    rule = client.post(URL, json=body(actions=[{**EMAIL, "uuid": kept}])).json()
    assert rule["actions"][0]["uuid"] == kept
    other = client.post(URL, json=body(frequency=99, actions=[{**EMAIL, "uuid": "nope"}])).json()
    assert other["actions"][0]["uuid"] not in ("nope", kept)


def test_update_delete_and_list_order(emulator):
    client = emulator.client()
    a = client.post(URL, json=body(frequency=10)).json()
    b = client.post(URL, json=body(frequency=20)).json()
    assert [r["id"] for r in client.get(URL).json()] == [b["id"], a["id"]]  # -id order
    updated = client.put(f"{URL}{a['id']}/", json=body(frequency=15, name="A2")).json()
    assert updated["frequency"] == 15 and updated["name"] == "A2"
    assert client.delete(f"{URL}{a['id']}/").status_code == 202
    assert client.get(f"{URL}{a['id']}/").status_code == 404
    assert client.get(f"projects/acme/frontend/rules/{b['id']}/").status_code == 404


def test_slack_rule_by_name_goes_through_the_rule_task(emulator):
    emulator.set_quirks(slack_task_polls=2, slack_task_delay=60)
    client = emulator.client()
    action = {k: v for k, v in SLACK.items() if k != "channel_id"}
    pending = client.post(URL, json=body(actions=[action]))
    assert pending.status_code == 202
    task = f"projects/acme/backend/rule-task/{pending.json()['uuid']}/"
    assert client.get(task).json() == {"status": "pending", "rule": None, "error": None}
    done = client.get(task).json()
    assert done["status"] == "success"
    assert done["rule"]["actions"][0]["channel_id"] == "C00000001"
    assert client.get("projects/acme/frontend/rule-task/" + pending.json()["uuid"] + "/"
                      ).status_code == 404


def test_unknown_slack_channel_is_a_400(emulator):
    emulator.set_quirks(slack_task_polls=1, slack_task_delay=3600)  # the first poll decides
    response = emulator.client().post(URL, json=body(actions=[
        {**SLACK, "channel": "#nowhere", "channel_id": None}]))
    assert response.status_code == 202
    # async by default: the lookup fails in the task
    task = emulator.client().get(
        f"projects/acme/backend/rule-task/{response.json()['uuid']}/").json()
    emulator.set_quirks(slack_async=False)
    sync = emulator.client().post(URL, json=body(actions=[{**SLACK, "channel": "#nowhere",
                                                           "channel_id": None}]))
    assert sync.status_code == 400
    assert sync.json() == {"actions": [
        ('The slack resource "nowhere" does not exist or has not been granted access in the '
        'Acme Slack Slack workspace.')]}
    assert task["status"] == "failed" and "nowhere" in task["error"]


def test_per_project_cap_on_slow_rules():
    from dexter_sync.emulator.testing import running_emulator

    with running_emulator(projects=["backend"], max_slow_issue_rules=2) as emu:
        client = emu.client()
        for value in (1, 2):
            assert client.post(URL, json=body(conditions=[{**FREQUENCY, "value": value}])
                               ).status_code == 200
        refused = client.post(URL, json=body(conditions=[{**FREQUENCY, "value": 3}]))
        assert refused.json() == {"conditions": [
            "You may not exceed 2 rules with this type of condition per project."]}
        assert client.post(URL, json=body()).status_code == 200  # fast rules have their own cap


# ---- every node id Sentry registers (REFERENCE §2.2 and constants.py `_SENTRY_RULES`) ----------

C, F = "sentry.rules.conditions.", "sentry.rules.filters."
SENTRY_CONDITIONS = [
    {"id": C + "first_seen_event.FirstSeenEventCondition"},
    {"id": C + "regression_event.RegressionEventCondition"},
    {"id": C + "reappeared_event.ReappearedEventCondition"},
    {"id": C + "high_priority_issue.NewHighPriorityIssueCondition"},
    {"id": C + "high_priority_issue.ExistingHighPriorityIssueCondition"},
    {"id": C + "event_frequency.EventFrequencyCondition", "value": 10, "interval": "1h"},
    {"id": C + "event_frequency.EventUniqueUserFrequencyCondition", "value": 10,
     "interval": "1d"},
    {"id": C + "event_frequency.EventFrequencyPercentCondition", "value": 1.5,
     "interval": "1h"},
    {"id": C + "every_event.EveryEventCondition"},
    {"id": C + "tagged_event.TaggedEventCondition", "key": "browser", "match": "eq",
     "value": "Chrome"},
    {"id": C + "level.LevelCondition", "match": "gte", "level": "40"},
]
SENTRY_FILTERS = [
    {"id": F + "age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": 3,
     "time": "day"},
    {"id": F + "issue_occurrences.IssueOccurrencesFilter", "value": 5},
    {"id": F + "assigned_to.AssignedToFilter", "targetType": "Unassigned"},
    {"id": F + "latest_release.LatestReleaseFilter"},
    {"id": F + "issue_category.IssueCategoryFilter", "value": "1"},
    {"id": C + "event_attribute.EventAttributeCondition", "attribute": "platform",
     "match": "eq", "value": "python"},
    {"id": F + "event_attribute.EventAttributeFilter", "attribute": "platform", "match": "eq",
     "value": "python"},
    {"id": F + "tagged_event.TaggedEventFilter", "key": "browser", "match": "eq",
     "value": "Chrome"},
    {"id": F + "level.LevelFilter", "match": "eq", "level": "50"},
    {"id": F + "latest_adopted_release_filter.LatestAdoptedReleaseFilter",
     "oldest_or_newest": "oldest", "older_or_newer": "newer", "environment": "production"},
]


@pytest.mark.parametrize("node", SENTRY_CONDITIONS, ids=[n["id"].rsplit(".", 1)[1]
                                                           for n in SENTRY_CONDITIONS])
def test_every_condition_sentry_registers_is_accepted(emulator, node):
    created = emulator.client().post(URL, json=body(name=node["id"], conditions=[node]))
    assert created.status_code == 200, created.text
    assert [c["id"] for c in created.json()["conditions"]] == [node["id"]]


@pytest.mark.parametrize("node", SENTRY_FILTERS, ids=[n["id"].rsplit(".", 1)[1]
                                                        for n in SENTRY_FILTERS])
def test_every_filter_sentry_registers_is_accepted(emulator, node):
    created = emulator.client().post(URL, json=body(name=node["id"], filters=[node],
                                                    filterMatch="all"))
    assert created.status_code == 200, created.text
    assert [f["id"] for f in created.json()["filters"]] == [node["id"]]


def test_a_filter_only_node_is_not_a_condition_list_only_id(emulator):
    # filters stay filters: a condition id in `filters` is refused as Sentry refuses it
    every = {"id": C + "every_event.EveryEventCondition"}
    refused = emulator.client().post(URL, json=body(filters=[every], filterMatch="all"))
    assert refused.status_code == 400
    assert refused.json() == {"filters": [f"Invalid node. Could not find '{every['id']}'"]}
