"""The emulator's Discover events endpoints (`events/`, `events-timeseries/`): counts of
events sent by the real sentry-sdk, aggregates checked against values computed here from
the raw rows, filters (negation, wildcards, OR, has:), periods, sort, pagination, and
Sentry's 400 bodies for invalid queries."""

from __future__ import annotations

import calendar
import statistics
import time
from collections import Counter, defaultdict

import pytest
import sentry_sdk

from dexter_sync.emulator.eventgen import GeneratorSpec, ReleaseMix, generate_events
from dexter_sync.emulator.testing import running_emulator
from dexter_sync.sentry.links import parse_link_header

EVENTS = "organizations/acme/events/"
SERIES = "organizations/acme/events-timeseries/"
END_MS = 1_780_000_000_000 // 3_600_000 * 3_600_000  # a whole hour, fixed: periods by start/end


def send_with_sdk(emu, project: str, *, release: str, environment: str,
                  errors: int, messages: int, durations: list[float], user: str) -> None:
    """Events through sentry-sdk's own client and transport (envelopes to the emulator)."""
    dsn = emu.client().get(f"projects/acme/{project}/keys/").json()[0]["dsn"]["public"]
    sdk = sentry_sdk.Client(dsn=dsn, environment=environment, release=release,
                            default_integrations=False, traces_sample_rate=1.0)
    scope = sentry_sdk.Scope(client=sdk)
    scope.set_user({"id": user})
    for i in range(errors):
        try:
            raise ValueError(f"broken {i % 2}")
        except ValueError:
            event, hint = _exception_event(sdk)
            sdk.capture_event(event, hint=hint, scope=scope)
    for _ in range(messages):
        sdk.capture_event({"message": "a plain message", "level": "warning"}, scope=scope)
    now = time.time()
    for duration in durations:
        sdk.capture_event({"type": "transaction", "transaction": "/api/orders",
                           "start_timestamp": now - duration / 1000, "timestamp": now,
                           "contexts": {"trace": {"trace_id": "a" * 32, "span_id": "b" * 16,
                                                  "op": "http.server"}}, "spans": []},
                          scope=scope)
    sdk.flush(timeout=10)
    sdk.close()


def _exception_event(sdk):
    import sys

    from sentry_sdk.utils import event_from_exception

    return event_from_exception(sys.exc_info(), client_options=sdk.options)


def rows(client, **params):
    response = client.get(EVENTS, params={"statsPeriod": "1h", **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_sdk_events_give_the_counts_that_were_sent():
    with running_emulator(projects=["backend", "web"]) as emu:
        send_with_sdk(emu, "backend", release="1.0.0", environment="production", errors=5,
                      messages=2, durations=[100, 200, 300, 400], user="u1")
        send_with_sdk(emu, "web", release="1.1.0", environment="staging", errors=3,
                      messages=1, durations=[50], user="u2")
        client = emu.client()
        by_type = {r["event.type"]: r["count()"] for r in rows(
            client, field=["event.type", "count()"])}
        assert by_type == {"error": 8, "default": 3, "transaction": 5}
        by_release = {(r["release"], r["environment"], r["project"]): r["count()"] for r in rows(
            client, field=["release", "environment", "project", "count()"],
            query="!event.type:transaction")}
        assert by_release == {("1.0.0", "production", "backend"): 7,
                              ("1.1.0", "staging", "web"): 4}
        assert rows(client, field=["count()"], query="release:1.* !environment:staging "
                                                     "event.type:error")[0]["count()"] == 5
        assert rows(client, field=["count()"], query="has:user (level:warning OR "
                                                     "event.type:transaction)")[0]["count()"] == 8
        assert rows(client, field=["count_unique(user)"])[0]["count_unique(user)"] == 2
        issues = rows(client, field=["issue", "title", "count()"], sort="-count()",
                      query="event.type:error")
        assert sorted((r["issue"].split("-")[0], r["title"], r["count()"]) for r in issues) == [
            ("BACKEND", "ValueError: broken 0", 3), ("BACKEND", "ValueError: broken 1", 2),
            ("WEB", "ValueError: broken 0", 2), ("WEB", "ValueError: broken 1", 1)]
        durations = rows(client, field=["avg(transaction.duration)", "p50()"],
                         project=emu.client().get("projects/acme/backend/").json()["id"])
        assert durations == [{"avg(transaction.duration)": 250.0, "p50()": 250.0}]


@pytest.fixture(scope="module")
def generated():
    with running_emulator(projects=["backend", "web"]) as emu:
        seeded = generate_events(emu.store, "acme", GeneratorSpec(
            count=2_000, projects=["backend", "web"], seed=3, end_ms=END_MS, period_s=6 * 3600,
            releases=[ReleaseMix("2.0.0", error_rate=0.2), ReleaseMix("2.1.0", 0.3, 2)]))
        yield emu, seeded


def window(**extra):
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(END_MS / 1000))
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(END_MS / 1000 - 6 * 3600))
    return {"start": start, "end": iso, **extra}


def all_rows(client, fields: list[str]) -> list[dict]:
    """Every raw row, following the Link cursors page by page."""
    out, cursor = [], None
    for _ in range(100):
        params = window(field=fields, per_page=100, **({"cursor": cursor} if cursor else {}))
        response = client.get(EVENTS, params=params)
        assert response.status_code == 200, response.text
        out += response.json()["data"]
        nxt = parse_link_header(response.headers["link"])["next"]
        if not nxt.results:
            return out
        cursor = nxt.cursor
    raise AssertionError("pagination did not end")


def test_pagination_reads_every_row_once_and_the_counts_match(generated):
    emu, seeded = generated
    client = emu.client()
    raw = all_rows(client, ["id", "release", "event.type"])
    assert len(raw) == 2_000 and len({r["id"] for r in raw}) == 2_000
    sent = {v: c["errors"] for v, c in seeded["releases"].items()}
    counted = Counter(r["release"] for r in raw if r["event.type"] == "error")
    assert dict(counted) == sent


def test_aggregates_equal_values_computed_from_the_raw_rows(generated):
    emu, _ = generated
    client = emu.client()
    raw = [r for r in all_rows(client, ["transaction", "transaction.duration", "user",
                                        "event.type"]) if r["event.type"] == "transaction"]
    groups: dict[str, list[float]] = defaultdict(list)
    users: dict[str, set[str]] = defaultdict(set)
    for r in raw:
        groups[r["transaction"]].append(r["transaction.duration"])
        users[r["transaction"]].add(r["user"])
    fields = ["transaction", "count()", "count_unique(user)", "avg(transaction.duration)",
              "p50(transaction.duration)", "p75()", "p95()", "p99()", "min(transaction.duration)",
              "max(transaction.duration)"]
    response = client.get(EVENTS, params=window(field=fields, query="event.type:transaction",
                                                sort="-count()"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["fields"]["p95()"] == "duration"
    assert body["meta"]["units"]["avg(transaction.duration)"] == "millisecond"
    got = body["data"]
    assert [r["count()"] for r in got] == sorted((len(v) for v in groups.values()), reverse=True)
    for row in got:
        values = sorted(groups[row["transaction"]])
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        assert row["count()"] == len(values)
        assert row["count_unique(user)"] == len(users[row["transaction"]])
        assert row["avg(transaction.duration)"] == pytest.approx(statistics.fmean(values))
        assert row["p50(transaction.duration)"] == pytest.approx(statistics.median(values))
        assert row["p75()"] == pytest.approx(cuts[74])
        assert row["p95()"] == pytest.approx(cuts[94])
        assert row["p99()"] == pytest.approx(cuts[98])
        assert (row["min(transaction.duration)"], row["max(transaction.duration)"]) == (
            values[0], values[-1])


def test_time_series_buckets_match_the_raw_timestamps(generated):
    emu, _ = generated
    client = emu.client()
    raw = all_rows(client, ["timestamp", "event.type"])
    response = client.get(SERIES, params=window(yAxis=["count()", "count_unique(user)"],
                                                interval="1h", query="event.type:error"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"] == {"dataset": "discover", "start": END_MS - 6 * 3_600_000,
                            "end": END_MS}
    counts, unique = body["timeSeries"]
    assert counts["yAxis"] == "count()" and unique["yAxis"] == "count_unique(user)"
    assert counts["meta"] == {"valueType": "integer", "valueUnit": None,
                              "interval": 3_600_000}
    expected: Counter[int] = Counter()
    for r in raw:
        if r["event.type"] == "error":
            stamp = calendar.timegm(time.strptime(r["timestamp"][:19], "%Y-%m-%dT%H:%M:%S"))
            expected[int(stamp) // 3600 * 3_600_000] += 1
    assert len(counts["values"]) == 7  # start to end inclusive, zero-filled
    assert {p["timestamp"]: p["value"] for p in counts["values"] if p["value"]} == dict(expected)
    assert counts["values"][-1]["value"] == 0


def test_periods_projects_and_sort(generated):
    emu, seeded = generated
    client = emu.client()
    total = sum(c["events"] for c in seeded["releases"].values())
    whole = client.get(EVENTS, params=window(field=["count()"])).json()["data"]
    assert whole == [{"count()": total}]
    later = window(field=["count()"])
    later["start"] = later["end"][:11] + time.strftime(
        "%H:%M:%S", time.gmtime(END_MS / 1000 - 3600))
    last_hour = client.get(EVENTS, params=later).json()["data"][0]["count()"]
    assert 0 < last_hour < total
    assert client.get(EVENTS, params={"field": ["count()"], "statsPeriod": "1h"}).json()[
        "data"] == [{"count()": 0}]  # the generated events ended long ago
    by_project = client.get(EVENTS, params=window(field=["project", "count()"], sort="project",
                                                  project="web")).json()["data"]
    assert [r["project"] for r in by_project] == ["web"]
    ascending = client.get(EVENTS, params=window(field=["release", "count()"],
                                                 sort="count()")).json()["data"]
    assert [r["count()"] for r in ascending] == sorted(r["count()"] for r in ascending)


@pytest.mark.parametrize(("params", "detail"), [
    ({"field": ["foo()"]}, "foo is not a valid function"),
    ({"field": ["count()"], "query": "(release:1 OR level:error"},
     ("Parse error at '(relea' (column 1). This is commonly caused by unmatched parentheses. "
     "Enclose any text in double quotes.")),
    ({"field": ["id"], "query": "hi \n there"},
     ("Parse error at 'hi \n ther' (column 4). This is commonly caused by unmatched parentheses."
     " Enclose any text in double quotes.")),
    ({"field": ["release"], "sort": "-count()"}, "Cannot sort by a field that is not selected."),
    ({"field": [f"tags[t{i}]" for i in range(21)]},
     "You can view up to 20 fields at a time. Please delete some and try again."),
    ({"field": ["avg(release)"]}, ("avg(release): column argument invalid: release is not a "
                                  "numeric column")),
    ({"field": ["count_unique()"]},
     "count_unique(): expected 1 argument(s) but got 0 argument(s)"),
    ({"field": ["count()"], "start": "2026-01-01T00:00:00"}, "start and end are both required"),
])
def test_invalid_queries_get_sentrys_400(generated, params, detail):
    emu, _ = generated
    response = emu.client().get(EVENTS, params=params)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_unknown_project_is_forbidden_and_no_projects_gives_the_tip():
    with running_emulator(projects=[]) as emu:
        empty = emu.client().get(EVENTS, params={"field": ["count()"]})
        assert empty.json() == {"data": [], "meta": {"tips": {
            "query": "Need at least one valid project to query."}}}
        assert emu.client().get(EVENTS, params={"field": ["count()"],
                                                "project": "404"}).status_code == 403


def test_grouped_counts_over_partial_hours_equal_the_raw_rows(generated):
    """Counts come from the hourly rollup for whole hours and from the events for the
    partial hours at both ends: the sum equals the rows themselves."""
    emu, _ = generated
    client = emu.client()

    def iso(ms: int) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000))

    period = {"start": iso(END_MS - 5 * 3_600_000 - 1_337_000),
              "end": iso(END_MS - 2_222_000), "query": "!environment:staging release:2.*"}
    raw, cursor = [], None
    while True:
        page = client.get(EVENTS, params={**period, "field": ["id", "release", "event.type"],
                                          "per_page": 100, **({"cursor": cursor} if cursor
                                                              else {})})
        raw += page.json()["data"]
        nxt = parse_link_header(page.headers["link"])["next"]
        if not nxt.results:
            break
        cursor = nxt.cursor
    expected = Counter((r["release"], r["event.type"]) for r in raw)
    grouped = client.get(EVENTS, params={**period, "field": ["release", "event.type",
                                                             "count()"]}).json()["data"]
    assert {(r["release"], r["event.type"]): r["count()"] for r in grouped} == dict(expected)
    assert sum(expected.values()) > 500
