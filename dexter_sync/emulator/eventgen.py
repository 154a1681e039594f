"""A deterministic bulk generator of events for the Discover tables (tests, benchmarks).

    generate_events(store, "acme", GeneratorSpec(count=1_000_000, projects=["backend"],
                    releases=[ReleaseMix("1.0", error_rate=0.05)], seed=7))

The same spec and seed give the same rows. Each release gets a share of the events (its
`weight`), of which `error_rate` are errors spread over the shared issues and the release's
own `new_issues`; the rest are transactions with log-normal durations. Issues are created in
the document store (hash `gen:...`), so `issue` fields and issue lists see them. Rows go in
with one `executemany` per batch inside one transaction, which keeps a million rows within
a minute on a small machine.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import eventrollup
from .eventtable import COLUMNS, create_indexes, drop_indexes, ensure_table, insert_rows
from .seeding import ensure_environment, find_by, find_org
from .store import Store

BATCH = 50_000
BULK_REINDEX = 100_000
"""From this many events, indexes are dropped during the insert and built once after."""
LEVELS = ("error", "error", "error", "warning", "fatal")
PLATFORMS = ("python", "javascript")
FAILED_TRANSACTIONS = 0.02


@dataclass
class ReleaseMix:
    version: str
    error_rate: float = 0.05
    """Share of this release's events that are errors (the rest are transactions)."""
    weight: float = 1.0
    new_issues: int = 0
    """Issues only this release has (beyond the shared ones)."""


@dataclass
class GeneratorSpec:
    count: int
    projects: list[str]
    releases: list[ReleaseMix] = field(default_factory=lambda: [ReleaseMix("1.0.0")])
    seed: int = 0
    environments: list[str] = field(default_factory=lambda: ["production", "staging"])
    transactions: list[str] = field(default_factory=lambda: [
        "/api/orders", "/api/users", "/api/checkout", "/healthz", "worker.send_email"])
    shared_issues: int = 20
    users: int = 1000
    period_s: int = 86400
    """Events are spread evenly at random over the `period_s` seconds before `end_ms`."""
    end_ms: int | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> GeneratorSpec:
        releases = [ReleaseMix(**r) if isinstance(r, dict) else ReleaseMix(str(r))
                    for r in body.get("releases") or ["1.0.0"]]
        known = {k: v for k, v in body.items() if k in cls.__dataclass_fields__
                 and k != "releases"}
        return cls(releases=releases, **known)


def _issue(store: Store, org: dict[str, Any], project: dict[str, Any], key: str, title: str, release: str,
           stamp_ms: int) -> int:
    scope = str(project["id"])
    digest = f"gen:{key}"
    found = store.find("issue", org["id"], scope=scope, hash=digest)
    if found:
        return int(found[0]["id"])
    stamp = datetime.fromtimestamp(stamp_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    number = store.next_id(f"short_id:{project['id']}")
    issue = store.insert("issue", org["id"], {
        "projectId": project["id"], "hash": digest,
        "shortId": f"{project['slug'].upper()}-{number}", "title": title, "culprit": "gen",
        "level": "error", "status": "unresolved", "substatus": "new", "firstSeen": stamp,
        "firstSeenMs": stamp_ms, "lastSeen": stamp, "lastSeenMs": stamp_ms, "count": 0,
        "users": [], "metadata": {"type": "GeneratedError", "value": title},
        "type": "error", "platform": "python", "firstRelease": release, "environments": []},
        scope=scope)
    return int(issue["id"])


def generate_events(store: Store, organization: str, spec: GeneratorSpec) -> dict[str, Any]:
    """Insert `spec.count` events; returns counts per release and the issue ids made."""
    org = find_org(store, organization)
    if org is None:
        raise ValueError(f"unknown organization {organization!r}")
    projects = []
    for slug in spec.projects:
        project = find_by(store, "project", org, slug, "slug")
        if project is None:
            raise ValueError(f"unknown project {slug!r}")
        projects.append(project)
    if not projects or not spec.releases or spec.count < 0:
        raise ValueError("a generator needs projects, releases and a count >= 0")
    ensure_table(store)
    end_ms = spec.end_ms if spec.end_ms is not None else int(time.time() * 1000)
    start_ms = end_ms - spec.period_s * 1000
    with store.transaction():
        for env in spec.environments:
            ensure_environment(store, org, env)
        pools = _issue_pools(store, org, projects, spec, start_ms)
    rng = random.Random(spec.seed)
    totals = {r.version: {"events": 0, "errors": 0} for r in spec.releases}
    weights = [r.weight for r in spec.releases]
    done = 0
    bulk = spec.count >= BULK_REINDEX
    if bulk:  # one sort per index afterwards beats a million random index inserts
        with store.connection() as db:
            drop_indexes(db)
    try:
        while done < spec.count:
            size = min(BATCH, spec.count - done)
            rows = sorted(_rows(rng, org, projects, spec, pools, weights, totals, size,
                                start_ms, end_ms), key=lambda row: row[4])
            insert_rows(store, rows)
            done += size
    finally:
        with store.transaction(), store.connection() as db:
            if bulk:
                create_indexes(db)
            eventrollup.compact(db)
    return {"inserted": done, "releases": totals,
            "issues": {f"{p}/{v}": ids for (p, v), ids in pools.items()}}


def _issue_pools(store: Store, org: dict[str, Any], projects: list[dict[str, Any]], spec: GeneratorSpec,
                 start_ms: int) -> dict[tuple[str, str], list[int]]:
    pools: dict[tuple[str, str], list[int]] = {}
    for project in projects:
        first = spec.releases[0].version
        shared = [_issue(store, org, project, f"{project['slug']}:shared:{i}",
                         f"GeneratedError: shared failure {i}", first, start_ms)
                  for i in range(spec.shared_issues)]
        for mix in spec.releases:
            own = [_issue(store, org, project, f"{project['slug']}:{mix.version}:{i}",
                          f"GeneratedError: {mix.version} failure {i}", mix.version, start_ms)
                   for i in range(mix.new_issues)]
            pools[(project["slug"], mix.version)] = shared + own
    return pools


def _rows(rng: random.Random, org: dict[str, Any], projects: list[dict[str, Any]],
          spec: GeneratorSpec, pools: dict[tuple[str, str], list[int]], weights: list[float],
          totals: dict[str, dict[str, int]], size: int, start_ms: int, end_ms: int
          ) -> Iterator[tuple[Any, ...]]:
    org_id = str(org["id"])
    span = max(end_ms - start_ms, 1)
    draw = rng.random  # int(draw() * n) instead of randrange: a third of the time
    envs: list[str | None] = [*spec.environments] or [None]
    txns, users, n_projects = spec.transactions, spec.users, len(projects)
    for mix in rng.choices(spec.releases, weights=weights, k=size):
        project = projects[int(draw() * n_projects)]
        ts = start_ms + int(draw() * span)
        env = envs[int(draw() * len(envs))]
        uid = str(int(draw() * users))
        event_id = f"{rng.getrandbits(128):032x}"
        txn = txns[int(draw() * len(txns))]
        browser = "Chrome" if draw() < 0.6 else "Firefox"
        total = totals[mix.version]
        total["events"] += 1
        pool = pools[(project["slug"], mix.version)]
        if draw() < mix.error_rate and pool:
            total["errors"] += 1
            group = pool[int(draw() * len(pool))]
            title = f"GeneratedError: group {group}"
            yield (org_id, project["id"], event_id, group, ts, "error", env, mix.version,
                   LEVELS[int(draw() * len(LEVELS))], PLATFORMS[0], title, title, txn,
                   f"id:{uid}", uid, None, None, f'{{"browser":"{browser}"}}', None)
        else:
            duration = round(rng.lognormvariate(5.0, 0.6), 3)
            status = "ok" if draw() >= FAILED_TRANSACTIONS else "internal_error"
            yield (org_id, project["id"], event_id, None, ts, "transaction", env,
                   mix.version, "info", PLATFORMS[0], txn, txn, txn, f"id:{uid}", uid, None,
                   duration, f'{{"browser":"{browser}","transaction.status":"{status}"}}',
                   None)


assert len(COLUMNS) == 19  # the tuples above follow eventtable.COLUMNS
