"""Reading live state through the facade against the emulator over real HTTP: request counts
(one request per page, never one GET per object), politeness under the emulator's rate
limits, single-flight, name resolution, Slack channel learning, writes and rule tasks."""

from __future__ import annotations

import asyncio
import math

import pytest

from dexter_sync.core.requests import ApiRequest
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import BadRequest
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway, GatewaySettings

pytestmark = pytest.mark.slow


def facade_for(emu, **settings) -> SentryFacade:
    client = SentryClient(base_url=emu.url, token=emu.token)
    return SentryFacade(Gateway(client, GatewaySettings(**settings)), emu.organization)


async def read(emu, kinds, **kwargs):
    facade = facade_for(emu)
    try:
        return await facade.read_state(kinds, **kwargs), facade
    finally:
        await facade.aclose()


def test_reading_a_large_org_costs_pages_plus_one_list_per_project():
    with running_emulator(rate_limit={"enabled": True, "limit": 100_000, "window": 1}) as emu:
        emu.seed_rules(metric_rules=2000, issue_rules=3000, projects=300, saved_queries=1000)
        kinds = ["metric_alert", "issue_alert", "discover_query"]
        emu.reset_counters()
        live, facade = asyncio.run(read(emu, kinds))
        counters = emu.counters()

    assert len(live.of_kind("metric_alert")) == 2000
    assert len(live.of_kind("issue_alert")) == 3000
    projects = len(live.directory.projects)
    assert projects >= 300
    directory_lists = math.ceil(projects / 100) + 5  # projects pages + teams, members, ...
    minimum = 20 + 300 + directory_lists  # metric pages + one list per project
    assert len(live.of_kind("discover_query")) == 1000
    minimum += 10  # discover pages
    assert counters["total"] <= minimum
    assert facade.gateway.metrics.requests == counters["total"]
    keys = {o.key for o in live.of_kind("issue_alert")}
    assert len(keys) == 3000  # every object resolved to its own natural key


def test_rate_limited_reads_slow_down_before_sentry_says_429():
    with running_emulator(rate_limit={"enabled": True, "limit": 20, "window": 1}) as emu:
        emu.seed_rules(metric_rules=300, issue_rules=160, projects=40)
        emu.reset_counters()
        live, facade = asyncio.run(read(emu, ["metric_alert", "issue_alert"]))
        counters = emu.counters()

    assert len(live.of_kind("issue_alert")) == 160 and len(live.of_kind("metric_alert")) == 300
    # 40+ requests to the project-rules endpoint at 20/s: the limit was really in play
    assert counters["routes"]["GET /api/0/projects/{org}/{project}/rules/"]["200"] >= 40
    assert counters["rate_limited"] <= 2
    # the limiter paced from Sentry's headers (how long it waited depends on the machine's
    # speed, so it is not asserted; that it knew the limit is)
    assert facade.gateway.limiter.budget("GET projects/{org}/{project}/rules/").limit == 20


def test_concurrent_limit_from_headers_caps_in_flight_requests():
    with running_emulator(rate_limit={"enabled": True, "limit": 1000, "window": 1,
                                      "concurrency": 4}) as emu:
        emu.seed_rules(issue_rules=60, projects=30)
        emu.set_faults(latency_ms=20)
        emu.reset_counters()
        live, facade = asyncio.run(read(emu, ["issue_alert"]))
        counters = emu.counters()

    assert len(live.of_kind("issue_alert")) == 60
    # slow start: the first request to an endpoint goes alone, so no burst overruns the cap
    assert counters["rate_limited"] <= 1
    budget = facade.gateway.limiter.budget("GET projects/{org}/{project}/rules/")
    assert budget.concurrent_limit is not None and budget.concurrent_limit <= 4


def test_single_flight_fifty_identical_gets_reach_sentry_once():
    with running_emulator(projects=["web"]) as emu:
        emu.set_faults(latency_ms=50)
        emu.reset_counters()

        async def main():
            facade = facade_for(emu)
            request = ApiRequest("GET", f"organizations/{emu.organization}/projects/")
            try:
                return await asyncio.gather(*(facade.send(request) for _ in range(50))), facade
            finally:
                await facade.aclose()

        responses, facade = asyncio.run(main())
        counters = emu.counters()

    assert len(responses) == 50 and all(r.status == 200 for r in responses)
    assert counters["routes"]["GET /api/0/organizations/{org}/projects/"] == {"200": 1}
    assert facade.gateway.flights.shared == 49


def test_directory_resolves_names_and_learns_slack_channels(emulator):
    org = emulator.organization
    client = emulator.client()
    slack = next(i for i in client.get(f"organizations/{org}/integrations/").json()
                 if i["provider"]["key"] == "slack")
    rule = {"name": "errors", "aggregate": "count()", "dataset": "events", "query": "",
            "timeWindow": 60, "projects": ["backend"], "thresholdType": 0,
            "triggers": [{"label": "critical", "alertThreshold": 10, "actions": [
                {"type": "slack", "targetType": "specific", "targetIdentifier": "#alerts",
                 "integrationId": int(slack["id"])}]}]}
    emulator.set_quirks(slack_async=False)
    created = client.post(f"organizations/{org}/alert-rules/", json=rule)
    assert created.status_code == 201, created.text

    live, _ = asyncio.run(read(emulator, ["metric_alert"], projects=["backend", "nope"]))
    directory = live.directory
    assert set(directory.projects) >= {"backend", "frontend"}
    assert directory.team_id("platform") and directory.user_id("alice@example.com")
    assert directory.integration("Acme Slack", "slack").id == slack["id"]
    assert directory.repository("acme/backend") is not None
    assert {"production", "staging"} <= directory.environments
    assert (slack["id"], "#alerts") in directory.slack_channels
    assert [o.key for o in live.of_kind("metric_alert")] == ["errors"]


def test_send_find_live_and_poll_a_slack_rule_task(emulator):
    org = emulator.organization
    rule = {"name": "new issues", "actionMatch": "any", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                  "FirstSeenEventCondition"}],
            "actions": [{"id": "sentry.mail.actions.NotifyEmailAction",
                         "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}]}

    async def main():
        facade = facade_for(emulator)
        try:
            created = await facade.send(ApiRequest("POST", f"projects/{org}/backend/rules/",
                                                   json=rule))
            found = await facade.find_live("issue_alert", "backend/new issues", project="backend")
            alt = await facade.find_live("issue_alert", "backend/new issues")
            missing = await facade.find_live("issue_alert", "backend/none", project="backend")
            return created, found, alt, missing
        finally:
            await facade.aclose()

    created, found, alt, missing = asyncio.run(main())
    assert created.status == 200  # an issue rule's create answers 200 (REFERENCE.md §2: the server code, not the OpenAPI 201)
    assert found is not None  # issue_alert's natural key is <project>/<name>
    assert found.id == str(created.body["id"]) and alt is not None and missing is None


def test_a_429_waits_for_the_window_reset_and_retries():
    """Another client spends the window's budget; our GET meets a 429, waits for the reset
    and retries. The window may turn over between the two clients (then no 429 is met), so
    the scenario is tried a few times until one run met the 429, and then checked."""
    with running_emulator(projects=["web"], rate_limit={"enabled": True, "limit": 3,
                                                        "window": 1}) as emu:
        path = f"organizations/{emu.organization}/projects/"
        other = emu.client()

        async def main():
            facade = facade_for(emu)
            try:
                return await facade.send(ApiRequest("GET", path)), facade
            finally:
                await facade.aclose()

        for _ in range(5):
            statuses: list[int] = []
            while 429 not in statuses and len(statuses) < 20:
                statuses.append(other.get(path).status_code)
            response, facade = asyncio.run(main())
            route = facade.gateway.metrics.route("GET organizations/{org}/projects/")
            if route.rate_limited:
                break

    assert response.status == 200
    assert route.rate_limited == 1 and route.retries == 1 and route.statuses[200] == 1


def test_deploys_are_read_after_the_releases_they_depend_on(emulator):
    from pydantic import BaseModel

    from dexter_sync.core.state import DesiredResource, DesiredState, ManifestSettings

    client = emulator.client()
    org = emulator.organization
    for version in ("1.0", "2.0"):
        created = client.post(f"organizations/{org}/releases/",
                              json={"version": version, "projects": ["backend"]})
        assert created.status_code == 201, created.text
        deployed = client.post(f"organizations/{org}/releases/{version}/deploys/",
                               json={"environment": "production"})
        assert deployed.status_code == 201, deployed.text

    class Declared(BaseModel):
        pass

    desired = DesiredState(settings=ManifestSettings(organization=org, root="."), resources=[
        DesiredResource("deploy", "2.0/production", Declared(), parent_key="2.0")])
    emulator.reset_counters()
    live, _ = asyncio.run(read(emulator, ["deploy"], desired=desired))
    routes = emulator.counters()["routes"]

    assert {o.key for o in live.of_kind("release")} >= {"1.0", "2.0"}  # read first, implicitly
    assert [o.data["environment"] for o in live.of_kind("deploy")] == ["production"]
    deploy_lists = [r for r in routes if r.endswith("/deploys/")]
    assert len(deploy_lists) == 1 and sum(routes[deploy_lists[0]].values()) == 1  # 2.0 only


def test_an_unknown_organization_is_a_clear_error(emulator):
    async def main():
        client = SentryClient(base_url=emulator.url, token=emulator.token)
        facade = SentryFacade(Gateway(client), "no-such-org")
        try:
            await facade.read_state(["metric_alert"])
        finally:
            await facade.aclose()

    with pytest.raises(Exception) as caught:
        asyncio.run(main())
    assert caught.value.code == "unknown-organization"
    assert "organization 'no-such-org' was not found in Sentry" in str(caught.value)


def test_poll_task_follows_a_202_slack_rule_until_it_is_created(emulator):
    org = emulator.organization
    slack = next(i for i in emulator.client().get(f"organizations/{org}/integrations/").json()
                 if i["provider"]["key"] == "slack")

    def rule(name: str, channel: str) -> dict:
        return {"name": name, "actionMatch": "any", "frequency": 30,
                "conditions": [{"id": "sentry.rules.conditions.first_seen_event."
                                      "FirstSeenEventCondition"}],
                "actions": [{"id": "sentry.integrations.slack.notify_action."
                                   "SlackNotifyServiceAction",
                             "workspace": slack["id"], "channel": channel}]}

    async def main():
        facade = facade_for(emulator)
        try:
            outcomes = []
            for name, channel in (("to alerts", "#alerts"), ("to nowhere", "#no-such-channel")):
                try:
                    sent = await facade.send(ApiRequest(
                        "POST", f"projects/{org}/backend/rules/", json=rule(name, channel)))
                except BadRequest as error:
                    outcomes.append((400, error))
                    continue
                if sent.status != 202:
                    outcomes.append((sent.status, None))
                    continue
                try:
                    done = await facade.poll_task("backend", sent.body["uuid"],
                                                  kind="issue_alert", timeout=10)
                    outcomes.append((202, done))
                except Exception as error:  # noqa: BLE001 - the failure is what is checked
                    outcomes.append((202, error))
            return outcomes
        finally:
            await facade.aclose()

    (status, done), (failed_status, failure) = asyncio.run(main())
    assert status == 202 and done["status"] == "success"
    assert done["rule"]["name"] == "to alerts"
    # the channel is looked up by the task, not when the rule is posted: 202, then failed
    assert failed_status == 202
    assert getattr(failure, "code", None) == "task-failed"
    assert "no-such-channel" in str(failure)
