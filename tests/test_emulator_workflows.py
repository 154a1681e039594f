"""Workflows and detectors on the emulator (REFERENCE-workflows.md): string ids, system
detectors, server-generated uptime condition groups, the nested-id PUT semantics, links
written from the workflow side, bulk filters, auto-migration and retired legacy endpoints."""

from __future__ import annotations

WF = "organizations/acme/workflows/"
DET = "organizations/acme/detectors/"


def metric_detector(name: str = "checkout errors") -> dict:
    return {"name": name, "type": "metric_issue",
            "dataSources": [{"aggregate": "count()", "dataset": "events", "query": "level:error",
                             "timeWindow": 300}],
            "config": {"detectionType": "static"},
            "conditionGroup": {"logicType": "all", "conditions": [
                {"type": "gt", "comparison": 100, "conditionResult": 75},
                {"type": "lte", "comparison": 100, "conditionResult": 0}]}}


def workflow(name: str = "page", detector_ids: list | None = None, **extra) -> dict:
    body = {"name": name, "enabled": True, "config": {"frequency": 30},
            "triggers": {"logicType": "any-short", "conditions": [
                {"type": "first_seen_event", "comparison": True, "conditionResult": True}]},
            "actionFilters": [{"logicType": "all", "conditions": [
                {"type": "level", "comparison": {"level": 40, "match": "gte"},
                 "conditionResult": True}],
                "actions": [{"type": "email", "config": {"targetType": "issue_owners"},
                             "data": {"fallthroughType": "ActiveMembers"}}]}],
            "detectorIds": detector_ids or []}
    body.update(extra)
    return body


def test_every_project_has_system_detectors_that_cannot_be_deleted(emulator):
    client = emulator.client()
    listed = client.get(DET, params={"project": "-1", "query": "type:error"}).json()
    assert sorted(d["type"] for d in listed) == ["error", "error"]
    assert all(isinstance(d["id"], str) and d["conditionGroup"] is None for d in listed)
    response = client.delete(f"{DET}{listed[0]['id']}/")
    assert response.status_code == 403
    assert client.get(f"{DET}{listed[0]['id']}/").status_code == 200
    created = client.post("organizations/acme/projects/backend/detectors/",
                          json={"name": "x", "type": "error"})
    assert created.status_code == 400
    assert created.json() == {"type": ["Detector type not compatible with detectors"]}


def test_metric_detector_is_created_with_logic_any_and_string_ids(emulator):
    client = emulator.client()
    response = client.post("organizations/acme/projects/backend/detectors/",
                           json=metric_detector())
    assert response.status_code == 201
    body = response.json()
    assert body["conditionGroup"]["logicType"] == "any"
    assert body["dataSources"][0]["queryObj"]["status"] == 1
    assert body["dataSources"][0]["queryObj"]["subscription"] is None
    assert body["dataSources"][0]["queryObj"]["snubaQuery"]["timeWindow"] == 300
    assert body["alertRuleId"] is None and body["ruleId"] is None
    ids = [body["id"], body["projectId"], body["dataSources"][0]["sourceId"],
           *(c["id"] for c in body["conditionGroup"]["conditions"])]
    assert all(isinstance(i, str) and i.isdigit() for i in ids)
    again = client.get(f"{DET}{body['id']}/").json()
    assert again["dataSources"][0]["queryObj"]["status"] == 0


def test_uptime_condition_group_is_generated_by_the_server(emulator):
    client = emulator.client()
    response = client.post("organizations/acme/projects/frontend/detectors/", json={
        "name": "homepage", "type": "uptime_domain_failure",
        "dataSources": [{"url": "https://example.com/", "intervalSeconds": 60,
                         "timeoutMs": 5000, "headers": [["b", "2"], ["a", "1"]]}],
        "config": {"mode": 1, "environment": "production"},
        "conditionGroup": {"logicType": "all", "conditions": [
            {"type": "gt", "comparison": 1, "conditionResult": 50}]}})
    assert response.status_code == 201, response.text
    body = response.json()
    conditions = sorted((c["type"], c["comparison"], c["conditionResult"])
                        for c in body["conditionGroup"]["conditions"])
    assert conditions == [("eq", "failure", 75), ("eq", "success", 0)]
    assert body["config"] == {"mode": 1, "environment": "production", "downtimeThreshold": 3,
                              "recoveryThreshold": 1}
    assert body["dataSources"][0]["queryObj"]["headers"] == [["b", "2"], ["a", "1"]]
    bad = client.post("organizations/acme/projects/frontend/detectors/", json={
        "name": "bad", "type": "uptime_domain_failure",
        "dataSources": [{"url": "https://example.com/", "intervalSeconds": 61,
                         "timeoutMs": 5000}]})
    assert bad.status_code == 400
    assert "intervalSeconds" in bad.json()["dataSources"]


def test_cron_detector_keeps_snake_case_config(emulator):
    client = emulator.client()
    response = client.post("organizations/acme/projects/backend/detectors/", json={
        "name": "nightly job", "type": "monitor_check_in_failure",
        "dataSources": [{"name": "nightly job", "config": {
            "schedule_type": "crontab", "schedule": "0 3 * * *", "checkin_margin": 5,
            "max_runtime": 30, "timezone": "Europe/Berlin"}}]})
    assert response.status_code == 201, response.text
    query = response.json()["dataSources"][0]["queryObj"]
    assert query["slug"] == "nightly-job"
    assert query["config"]["schedule_type"] == "crontab"
    assert query["config"]["failure_issue_threshold"] == 1


def test_workflow_put_without_nested_ids_recreates_them_and_redefaults_enabled(emulator):
    client = emulator.client()
    created = client.post(WF, json=workflow(enabled=False)).json()
    assert created["enabled"] is False
    condition_id = created["triggers"]["conditions"][0]["id"]
    put = dict(workflow())
    del put["enabled"]
    updated = client.put(f"{WF}{created['id']}/", json=put).json()
    assert updated["enabled"] is True  # PUT is not partial
    assert updated["triggers"]["id"] == created["triggers"]["id"]
    assert updated["triggers"]["conditions"][0]["id"] != condition_id
    assert updated["actionFilters"][0]["id"] != created["actionFilters"][0]["id"]


def test_workflow_put_with_nested_ids_keeps_them(emulator):
    client = emulator.client()
    created = client.post(WF, json=workflow()).json()
    body = workflow()
    body["triggers"] = created["triggers"]
    group = created["actionFilters"][0]
    body["actionFilters"] = [{**group, "actions": [{**group["actions"][0],
                                                    "data": {"fallthroughType": "NoOne"}}]}]
    updated = client.put(f"{WF}{created['id']}/", json=body).json()
    assert updated["triggers"]["conditions"][0]["id"] == \
        created["triggers"]["conditions"][0]["id"]
    assert updated["actionFilters"][0]["actions"][0]["id"] == group["actions"][0]["id"]
    assert updated["actionFilters"][0]["actions"][0]["data"] == {"fallthroughType": "NoOne"}
    foreign = client.put(f"{WF}{created['id']}/", json={**body, "actionFilters": [
        {**group, "id": "1"}]})
    assert foreign.status_code == 400


def test_links_are_written_from_the_workflow_side(emulator):
    client = emulator.client()
    detector = client.post("organizations/acme/projects/backend/detectors/",
                           json=metric_detector()).json()
    created = client.post(WF, json=workflow(detector_ids=[int(detector["id"])])).json()
    assert created["detectorIds"] == [detector["id"]]
    assert client.get(f"{DET}{detector['id']}/").json()["workflowIds"] == [created["id"]]
    missing = client.post(WF, json=workflow(name="other", detector_ids=["999"]))
    assert missing.status_code == 400
    assert missing.json() == {"detectorIds": ["Some detectors do not exist: {999}"]}
    frontend = client.get(WF, params={"project": "frontend"}).json()
    assert frontend == []  # a project filter leaves detached workflows out
    assert [w["id"] for w in client.get(WF, params={"project": "-1"}).json()] == [created["id"]]


def test_bulk_endpoints_need_a_filter_and_say_when_nothing_matches(emulator):
    client = emulator.client()
    refused = client.put(WF, json={"enabled": False})
    assert refused.status_code == 400
    nothing = client.put(WF, params={"query": "name:nope"}, json={"enabled": False})
    assert (nothing.status_code, nothing.json()) == (200, {"detail": "No workflows found."})
    created = client.post(WF, json=workflow()).json()
    disabled = client.put(WF, params={"id": created["id"]}, json={"enabled": False}).json()
    assert [w["enabled"] for w in disabled] == [False]


def test_migrated_org_gets_workflow_twins_and_retired_legacy_endpoints(emulator):
    client = emulator.client()
    rule = client.post("organizations/acme/alert-rules/", json={
        "name": "High errors", "aggregate": "count()", "timeWindow": 5, "query": "",
        "thresholdType": 0, "projects": ["backend"], "triggers": [
            {"label": "critical", "alertThreshold": 100, "actions": [
                {"type": "email", "targetType": "team", "targetIdentifier": "1000"}]}]}).json()
    switched = emulator.admin.put("alerting/", json={"migrated": True}).json()
    assert switched["rulesMigrated"] == 1
    detector = client.get(DET, params={"project": "-1", "query": "type:metric"}).json()
    assert [(d["name"], d["alertRuleId"]) for d in detector] == [("High errors",
                                                                  int(rule["id"]))]
    twin = client.get("organizations/acme/alert-rule-workflow/",
                      params={"alert_rule_id": rule["id"]}).json()
    assert twin["alertRuleId"] == rule["id"]
    wf = client.get(f"{WF}{twin['workflowId']}/").json()
    assert wf["name"] == "High errors" and wf["detectorIds"] == [detector[0]["id"]]
    assert emulator.admin.put("alerting/",
                              json={"legacy_retired": True}).status_code == 200
    gone = client.get("organizations/acme/alert-rules/")
    assert (gone.status_code, gone.json()) == (410, {"message": "This API no longer exists."})
    assert client.get("projects/acme/backend/rules/").status_code == 410
