"""Kind discover_query: payloads (REFERENCE.md §4), normalization hazards, validation, export."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from dexter_sync.core.changes import Action, FieldChange, ResourceChange
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory
from dexter_sync.kinds.base import ReadContext
from dexter_sync.kinds.discover_queries import DiscoverQueryEntry, DiscoverQueryKind
from tests import helpers_kinds as helpers
from tests.helpers_kinds import manifest_errors, send

KIND = DiscoverQueryKind()
DIRECTORY = Directory("acme", projects={"backend": "11", "frontend": "12", "mobile": "13"},
                      environments={"production", "staging"})


def entry(**fields) -> DiscoverQueryEntry:
    base = {"name": "Slow pages", "fields": ["transaction", "p95(transaction.duration)"]}
    return DiscoverQueryEntry.model_validate({**base, **fields})


def live_response(**overrides) -> dict:
    """A saved query as Sentry answers it (REFERENCE.md §4, Response)."""
    data = {
        "id": "41", "name": "Slow pages", "projects": [13, 11], "version": 2,
        "queryDataset": "transaction-like", "datasetSource": "user", "expired": False,
        "dateCreated": "2024-05-01T10:00:00.123456Z", "dateUpdated": "2024-05-02T10:00:00.123456Z",
        "createdBy": {"id": "1", "name": "Ann", "email": "ann@acme.io"},
        "fields": ["transaction", "p95(transaction.duration)"], "query": "event.type:transaction",
        "orderby": "-p95_transaction_duration", "environment": ["staging", "production"],
        "range": "14d", "yAxis": ["p95(transaction.duration)"], "display": "top5", "topEvents": 5,
        "interval": "1h", "widths": ["-1", "300"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def canonical_live(data: dict) -> dict:
    return KIND.canonical(KIND.entry_from_live(data, directory=DIRECTORY), directory=DIRECTORY)


def differing(desired: dict, live: dict) -> set[str]:
    """Keys the planner would report: those canonical(desired) holds, with another live value."""
    return {k for k, v in desired.items() if live.get(k) != v}


FULL = {
    "projects": ["backend", "mobile"], "query_dataset": "transaction-like", "query": "event.type:transaction",
    "orderby": "-p95_transaction_duration", "environment": ["production", "staging"], "range": "14d",
    "y_axis": ["p95(transaction.duration)"], "display": "top5", "top_events": 5, "interval": "1h",
    "widths": [-1, 300],
}


# ---- payloads ---------------------------------------------------------------------------


def test_payload_is_sentry_request_shape_with_version_2_and_project_ids():
    payload = KIND.build_payload(entry(**FULL), directory=DIRECTORY)
    assert payload == {
        "name": "Slow pages", "projects": [11, 13], "version": 2,
        "queryDataset": "transaction-like", "fields": ["transaction", "p95(transaction.duration)"],
        "query": "event.type:transaction", "orderby": "-p95_transaction_duration",
        "environment": ["production", "staging"], "range": "14d",
        "yAxis": ["p95(transaction.duration)"], "display": "top5", "topEvents": 5,
        "interval": "1h", "widths": ["-1", "300"],
    }


def test_payload_project_ids_are_unique_and_sorted():
    payload = KIND.build_payload(entry(projects=["mobile", "backend", "mobile"]), directory=DIRECTORY)
    assert payload["projects"] == [11, 13]


def test_payload_sends_only_declared_keys():
    payload = KIND.build_payload(entry(), directory=DIRECTORY)
    assert payload == {"name": "Slow pages", "version": 2,
                       "fields": ["transaction", "p95(transaction.duration)"]}


def test_friendly_all_projects_is_minus_one():
    assert KIND.build_payload(entry(projects="all"), directory=DIRECTORY)["projects"] == [-1]
    assert canonical_live(live_response(projects=[-1]))["projects"] == "all"
    assert KIND.export(live_response(projects=[-1]), directory=DIRECTORY)["projects"] == "all"


def test_raw_passes_through_and_is_compared_key_by_key():
    desired = entry(raw={"statsPeriodStart": "7d"})
    assert KIND.build_payload(desired, directory=DIRECTORY)["statsPeriodStart"] == "7d"
    canon = KIND.canonical(desired, directory=DIRECTORY)
    assert canon["raw.statsPeriodStart"] == "7d"
    assert differing(canon, canonical_live(live_response(statsPeriodStart="7d"))) == set()
    assert differing(canon, canonical_live(live_response(statsPeriodStart="30d"))) == {"raw.statsPeriodStart"}


def test_unknown_project_in_payload_is_a_clear_error():
    with pytest.raises(DexterError, match="unknown project 'nope'"):
        KIND.build_payload(entry(projects=["nope"]), directory=DIRECTORY)


# ---- normalization hazards ------------------------------------------------------------


def test_projects_order_and_int_ids_compare_equal():
    desired = KIND.canonical(entry(projects=["mobile", "backend"]), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_response(projects=[11, 13]))) == set()
    assert differing(desired, canonical_live(live_response(projects=["13", "11"]))) == set()


def test_omitted_keys_equal_null_keys():
    # Sentry stores and returns only non-null keys: a live query without `query` or `widths`
    # matches a manifest that does not declare them, and a null key counts as absent.
    desired = KIND.canonical(entry(projects=["backend"]), directory=DIRECTORY)
    minimal = live_response(projects=[11], query=None, widths=None, orderby=None, display=None,
                            topEvents=None, interval=None, yAxis=None, environment=None)
    assert differing(desired, canonical_live(minimal)) == set()
    assert "query" not in canonical_live(minimal)


def test_version_default_is_sent_and_compared():
    desired = KIND.canonical(entry(), directory=DIRECTORY)
    assert desired["version"] == 2
    # Sentry reads a missing version as 1 (obj.version or query.version or 1).
    old = live_response(version=None)
    assert canonical_live(old)["version"] == 1
    assert differing(desired, canonical_live(old)) == {"version"}


def test_environment_order_and_single_string_form():
    desired = KIND.canonical(entry(environment="production"), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_response(environment=["production"]))) == set()
    two = KIND.canonical(entry(environment=["staging", "production"]), directory=DIRECTORY)
    assert differing(two, canonical_live(live_response(environment=["production", "staging"]))) == set()


def test_start_rewritten_format_compares_as_instant():
    desired = KIND.canonical(entry(start="2024-05-01T00:00:00Z", end="2024-05-02T12:00:00+02:00"),
                             directory=DIRECTORY)
    live = live_response(range=None, start="2024-05-01T00:00:00.000000Z", end="2024-05-02T10:00:00Z")
    assert differing(desired, canonical_live(live)) == set()


def test_widths_numbers_and_strings_compare_equal():
    desired = KIND.canonical(entry(widths=[-1, 300]), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_response(widths=["-1", "300"]))) == set()


def test_unchanged_full_query_compares_equal():
    desired = KIND.canonical(entry(**FULL), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_response())) == set()


@pytest.mark.parametrize("field_name,value,sentry_key,live_value", [
    ("query", "event.type:error", "query", "event.type:error"),
    ("range", "7d", "range", "7d"),
    ("top_events", 3, "topEvents", 3),
    ("display", "daily", "display", "daily"),
    ("projects", ["backend"], "projects", [11]),
])
def test_one_field_change_differs_in_exactly_that_field(field_name, value, sentry_key, live_value):
    desired = KIND.canonical(entry(**{**FULL, field_name: value}), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_response())) == {field_name}
    assert differing(desired, canonical_live(live_response(**{sentry_key: live_value}))) == set()


# ---- validation (Sentry's own rules) ----------------------------------------------------


@pytest.mark.parametrize("fields,message", [
    ({"top_events": 11}, "less than or equal to 10"),
    ({"top_events": 0}, "greater than or equal to 1"),
    ({"display": "pie"}, "'default', 'previous', 'top5', 'daily', 'dailytop5' or 'bar'"),
    ({"fields": []}, "at least one field"),
    ({"name": ""}, "at least 1 character"),
    ({"range": "two weeks"}, "a period is a number"),
    ({"interval": "1 hour"}, "a period is a number"),
    ({"start": "2024-05-01T00:00:00Z"}, "start and end go together"),
    ({"start": "2024-05-02T00:00:00Z", "end": "2024-05-01T00:00:00Z"}, "start must be before end"),
    ({"range": "7d", "start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}, "either range or start/end"),
    ({"version": 1, "query": "x"}, "version 1 queries cannot use query"),
    ({"raw": {"groupby": ["x"]}}, "version 2 queries cannot use groupby"),
    ({"raw": {"yAxis": ["x"]}}, "raw repeats modelled fields: yAxis"),
    ({"query_dataset": "spans"}, "'error-events', 'transaction-like' or 'discover'"),
    ({"y_axes": ["count()"]}, "Extra inputs are not permitted"),
])
def test_validation_errors(fields, message):
    with pytest.raises(ValidationError, match=message):
        entry(**fields)


def test_version_1_query_with_v1_keys_is_accepted():
    old = entry(version=1, fields=["title"], raw={"limit": 10})
    assert KIND.build_payload(old, directory=DIRECTORY)["version"] == 1


# ---- export round trip and references ----------------------------------------------------


def test_export_round_trip():
    data = live_response(start="2024-05-01T00:00:00.000000Z", end="2024-05-03T00:00:00.000000Z",
                         range=None, conditions=[["x", "=", "y"]])
    data["version"] = 2
    data.pop("conditions")
    exported = KIND.export(data, directory=DIRECTORY)
    assert "id" not in exported and "createdBy" not in exported and "version" not in exported
    reparsed = DiscoverQueryEntry.model_validate(copy.deepcopy(exported))
    assert KIND.canonical(reparsed, directory=DIRECTORY) == canonical_live(data)


def test_export_of_version_1_query_keeps_v1_keys_in_raw():
    data = {"id": "3", "name": "Old", "projects": [], "version": 1, "fields": ["title"],
            "limit": 10, "groupby": ["title"], "dateCreated": "x", "createdBy": None}
    exported = KIND.export(data, directory=DIRECTORY)
    assert exported["raw"] == {"limit": 10, "groupby": ["title"]}
    reparsed = DiscoverQueryEntry.model_validate(exported)
    assert KIND.canonical(reparsed, directory=DIRECTORY) == canonical_live(data)


def test_references_projects_and_environments():
    refs = KIND.references(entry(projects=["backend"], environment=["production"]))
    assert [(r.kind, r.name, r.path) for r in refs] == [
        ("project", "backend", ("projects", 0)), ("environment", "production", ("environment", 0))]
    assert KIND.references(entry(projects="all")) == []


def test_requests_paths():
    change = ResourceChange(Action.UPDATE, "discover_query", "Slow pages", live_id="41",
                            payload={"name": "Slow pages", "version": 2, "fields": ["title"]},
                            live=live_response(), diff=(FieldChange(("fields",), [], ["title"]),))
    put = KIND.update_request("acme", change)
    assert (put.method, put.path) == ("PUT", "organizations/acme/discover/saved/41/")
    # PUT replaces the whole query: keys the manifest does not manage are carried over.
    assert put.json["fields"] == ["title"] and put.json["widths"] == ["-1", "300"]
    assert KIND.delete_request("acme", change).path == "organizations/acme/discover/saved/41/"
    post = KIND.create_request("acme", change)
    assert (post.method, post.path) == ("POST", "organizations/acme/discover/saved/")
    assert KIND.key(entry()) == "Slow pages"
    assert KIND.live_key(live_response(), directory=DIRECTORY, project=None, parent=None) == "Slow pages"


# ---- against the emulator (in-process, httpx ASGI transport) ----------------------------------


def on_emulator(scenario):
    return helpers.on_emulator(scenario, projects=["backend", "frontend", "mobile"],
                               environments=["production", "staging"])


async def read_live(client, directory) -> list:
    return await helpers.read_live(client, KIND, ReadContext("acme", directory, []))


def test_emulator_round_trip_every_query_option():
    desired = [entry(**FULL), entry(name="All errors", projects="all", fields=["title", "count()"],
                                    query_dataset="error-events", start="2024-05-01T00:00:00Z",
                                    end="2024-05-08T00:00:00Z", y_axis="count()", display="daily"),
               entry(name="Minimal", fields=["title"])]

    async def scenario(client, directory):
        for item in desired:
            change = ResourceChange(Action.CREATE, "discover_query", item.name,
                                    payload=KIND.build_payload(item, directory=directory))
            response = await send(client, KIND.create_request("acme", change))
            assert response.status_code == 201, response.text
        live = {o.key: o for o in await read_live(client, directory)}
        assert sorted(live) == sorted(d.name for d in desired)
        for item in desired:
            live_entry = KIND.entry_from_live(live[item.name].data, directory=directory)
            assert differing(KIND.canonical(item, directory=directory),
                             KIND.canonical(live_entry, directory=directory)) == set()
            # export -> re-parse -> same canonical form
            reparsed = DiscoverQueryEntry.model_validate(KIND.export(live[item.name].data, directory=directory))
            assert KIND.canonical(reparsed, directory=directory) == KIND.canonical(live_entry, directory=directory)

    on_emulator(scenario)


def test_emulator_drift_update_keeps_unmanaged_keys_and_delete():
    desired = entry(projects=["backend"], query="event.type:transaction")

    async def scenario(client, directory):
        change = ResourceChange(Action.CREATE, "discover_query", desired.name,
                                payload=KIND.build_payload(desired, directory=directory))
        created = (await send(client, KIND.create_request("acme", change))).json()
        # Out of band, in the UI: another query and column widths.
        await client.put(f"/api/0/organizations/acme/discover/saved/{created['id']}/",
                         json={**change.payload, "query": "event.type:error", "widths": ["200", "-1"]})
        [live] = await read_live(client, directory)
        live_canon = KIND.canonical(KIND.entry_from_live(live.data, directory=directory), directory=directory)
        assert differing(KIND.canonical(desired, directory=directory), live_canon) == {"query"}
        update = ResourceChange(Action.UPDATE, "discover_query", desired.name, live_id=live.id, live=live.data,
                                payload=KIND.build_payload(desired, directory=directory),
                                diff=(FieldChange(("query",), "event.type:error", "event.type:transaction"),))
        assert (await send(client, KIND.update_request("acme", update))).status_code == 200
        [healed] = await read_live(client, directory)
        assert (healed.data["query"], healed.data["widths"]) == ("event.type:transaction", ["200", "-1"])
        assert (await send(client, KIND.delete_request("acme", update))).status_code == 204
        assert await read_live(client, directory) == []

    on_emulator(scenario)


# ---- through the manifest loader: errors carry file:line ---------------------------------------


def test_manifest_errors_name_file_line_and_field(tmp_path):
    error = manifest_errors(tmp_path, "q.yaml",
        "discover_queries:\n"
        "  - name: Top\n"
        "    fields: [title]\n"
        "    top_events: 11\n"
        "  - name: Old\n"
        "    version: 1\n"
        "    fields: [title]\n"
        "    query: 'is:unresolved'\n")
    assert sorted((d.span.line, d.path[-1]) for d in error.diagnostics) == [
        (4, "top_events"), (8, "query")]
    assert "version 1 queries cannot use query" in str(error)
