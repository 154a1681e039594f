"""`dexter query` (declared, saved and ad-hoc queries; table, CSV, JSON, --chart; the TTL
cache across runs) and `dexter validate --online` (a query Sentry rejects fails with
Sentry's message and the manifest's file:line), against a served emulator."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from dexter_sync.emulator.eventgen import GeneratorSpec, ReleaseMix, generate_events
from dexter_sync.emulator.testing import running_emulator
from tests.test_sentry_inspect import run_cli

MANIFEST = """\
version: 1
organization: acme
include: ["queries.yaml"]
"""
QUERIES = """\
discover_queries:
  - name: Errors by release
    projects: [backend]
    query_dataset: error-events
    fields: [release, count()]
    query: "event.type:error"
    orderby: -count
    range: 24h
"""
BROKEN = """\
  - name: Broken aggregate
    fields: [release, avgg(transaction.duration)]
    range: 24h
  - name: Broken search
    fields: [count()]
    query: "(release:1.0 OR level:error"
    range: 24h
metric_alerts:
  - name: Slow checkout
    project: backend
    aggregate: p95(transaction.duration)
    dataset: transactions
    query: "transaction:/api/checkout"
    time_window: 10m
    triggers:
      critical:
        threshold: 500
        actions: [{email: {user: oncall@acme.example}}]
"""


@pytest.fixture(scope="module")
def seeded():
    with running_emulator(projects=["backend", "web"], members=["oncall@acme.example"]) as emu:
        result = generate_events(emu.store, "acme", GeneratorSpec(
            count=6_000, projects=["backend", "web"], seed=5, period_s=12 * 3600,
            end_ms=int(time.time() * 1000) - 60_000,  # well inside every 24h window used
            releases=[ReleaseMix("3.0.0", 0.1), ReleaseMix("3.1.0", 0.2)]))
        yield emu, result


def env_of(emu) -> dict[str, str]:
    return {"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token, "SENTRY_ORG": "acme"}


def manifests(tmp_path: Path, queries: str = QUERIES) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "dexter.yaml").write_text(MANIFEST)
    (tmp_path / "queries.yaml").write_text(queries)
    return tmp_path


def backend_errors(emu) -> Counter[str]:
    """Error events per release in backend, counted here from the raw rows (paginated)."""
    client, counted, cursor = emu.client(), Counter(), None
    while True:
        page = client.get("organizations/acme/events/", params={
            "field": ["release", "id"], "query": "event.type:error", "project": "backend",
            "statsPeriod": "24h", "per_page": 100, **({"cursor": cursor} if cursor else {})})
        counted.update(r["release"] for r in page.json()["data"])
        if 'rel="next"; results="true"' not in page.headers["link"]:
            return counted
        cursor = page.headers["link"].rsplit('cursor="', 1)[1].rstrip('"')


def test_declared_query_prints_a_table_csv_and_json(seeded, tmp_path):
    emu, _ = seeded
    path = manifests(tmp_path)
    expected = backend_errors(emu)
    as_json = run_cli("query", "Errors by release", "--path", str(path), "--format", "json",
                      env=env_of(emu), cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["fields"] == ["release", "count()"]
    assert {r["release"]: r["count()"] for r in body["data"]} == dict(expected)
    assert [r["count()"] for r in body["data"]] == sorted(expected.values(), reverse=True)

    as_csv = run_cli("query", "Errors by release", "--path", str(path), "--format", "csv",
                     env=env_of(emu), cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {r["release"]: int(r["count()"]) for r in rows} == dict(expected)

    table = run_cli("query", "Errors by release", "--path", str(path), env=env_of(emu),
                    cwd=tmp_path)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["release", "count()"] and set(lines[1]) == {"-", " "}
    top = max(expected, key=expected.__getitem__)
    assert lines[2].split() == [top, str(expected[top])]


def test_adhoc_query_with_chart_and_options(seeded, tmp_path):
    emu, generated = seeded
    total_errors = sum(r["errors"] for r in generated["releases"].values())
    done = run_cli("query", "--field", "count()", "--query", "!event.type:transaction",
                   "--period", "24h", "--chart", "--interval", "1h", "--format", "json",
                   env=env_of(emu), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["data"] == [{"count()": total_errors}]
    (series,) = body["series"]
    assert series["yAxis"] == "count()" and len(series["points"]) == 25
    assert sum(v for _, v in series["points"]) == total_errors

    drawn = run_cli("query", "--field", "release", "--field", "count()", "--period", "24h",
                    "--chart", env=env_of(emu), cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    assert "count()  (max " in drawn.stdout and "└" + "─" * 25 in drawn.stdout


def test_saved_query_in_sentry_runs_by_name_and_unknown_names_are_errors(seeded, tmp_path):
    emu, _generated = seeded
    client = emu.client()
    web = client.get("projects/acme/web/").json()["id"]
    made = client.post("organizations/acme/discover/saved/", json={
        "name": "Web transactions", "version": 2, "projects": [int(web)],
        "queryDataset": "transaction-like", "fields": ["transaction", "count()"],
        "orderby": "-count", "range": "24h"})
    assert made.status_code == 201, made.text
    done = run_cli("query", "Web transactions", "--path", str(tmp_path), "--format", "json",
                   env=env_of(emu), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)["data"]
    web_events = client.get("organizations/acme/events/", params={
        "field": ["count()"], "project": "web", "query": "event.type:transaction",
        "statsPeriod": "24h"}).json()["data"][0]["count()"]
    assert sum(r["count()"] for r in data) == web_events > 0

    missing = run_cli("query", "Web transaction", "--path", str(tmp_path), env=env_of(emu),
                      cwd=tmp_path)
    assert missing.returncode == 1
    assert "no Discover query named 'Web transaction'" in missing.stderr
    assert "did you mean 'Web transactions'?" in missing.stderr


def test_repeated_runs_within_the_ttl_are_served_by_the_cache(seeded, tmp_path):
    emu, _ = seeded
    args = ("-v", "query", "--field", "release", "--field", "count()", "--period", "24h",
            "--cache-ttl", "300")
    emu.reset_counters()
    outputs = [run_cli(*args, env=env_of(emu), cwd=tmp_path) for _ in range(4)]
    assert [o.returncode for o in outputs] == [0, 0, 0, 0]
    assert "query cache: miss" in outputs[0].stderr
    assert all("query cache: hit" in o.stderr for o in outputs[1:])
    assert len({o.stdout for o in outputs}) == 1
    counted = emu.counters()
    asked = sum(n for key, n in _requests(counted).items()
                if "/organizations/{org}/events/" in key)
    assert asked == 1
    fresh = run_cli(*args[:-1], "0", env=env_of(emu), cwd=tmp_path)
    assert "query cache:" not in fresh.stderr, fresh.stderr
    assert fresh.stdout == outputs[0].stdout


def _requests(counters: dict) -> dict[str, int]:
    """`"METHOD template" -> requests` from the emulator's counters."""
    routes = counters.get("routes") or counters
    out: dict[str, int] = {}
    for key, value in routes.items():
        out[key] = value if isinstance(value, int) else sum(
            v for v in value.values() if isinstance(v, int))
    return out


def test_validate_online_fails_rejected_queries_with_sentrys_message_and_file_line(
        seeded, tmp_path):
    emu, _ = seeded
    path = manifests(tmp_path, QUERIES + BROKEN)
    offline = run_cli("validate", str(path), env=env_of(emu), cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    online = run_cli("validate", str(path), "--online", env=env_of(emu), cwd=tmp_path)
    assert online.returncode == 1
    lines = [line.strip() for line in online.stderr.splitlines()]
    assert "error: 2 errors in the manifests: [invalid-manifest]" in lines
    assert ("queries.yaml:10:5: fields: Sentry rejects the query of discover_query "
            "'Broken aggregate': avgg is not a valid function [rejected-query]") in lines
    assert ("queries.yaml:14:5: query: Sentry rejects the query of discover_query "
            "'Broken search': Parse error at '(relea' (column 1). This is commonly caused by "
            "unmatched parentheses. Enclose any text in double quotes. [rejected-query]") in lines
    good = run_cli("validate", str(manifests(tmp_path / "good")), "--online",
                   env=env_of(emu), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "online: Sentry runs all 1 declared query" in good.stdout
