"""Discover queries at scale: the emulator's events endpoint over 1,000,000 stored events,
and the TTL cache of repeated `dexter query` runs.

Starts `dexter emulator` as a subprocess with a database file, fills it through the
deterministic bulk generator (admin `POST /__emulator__/events/generate/`), then times
grouped queries from a client (p50/p95 of `--repeat` requests each), and runs
`dexter query` `--runs` times within the TTL, reading each run's `--verbose` cache line and
the emulator's request counters. Prints figures and ratios to the targets.

    python benchmarks/query_bench.py [--events 1000000] [--repeat 30] [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TOKEN = "bench-token"
P95_TARGET_MS = 1000.0
HIT_RATE_TARGET = 0.9
PROJECTS = ["backend", "web", "mobile"]
QUERIES = {
    "grouped count by release (24h)": {
        "field": ["release", "count()"], "statsPeriod": "24h", "sort": "-count()"},
    "grouped count by project, event.type (24h)": {
        "field": ["project", "event.type", "count()"], "statsPeriod": "24h"},
    "filtered count (release:1.* !event.type:transaction, 7d)": {
        "field": ["count()"], "query": "release:1.* !event.type:transaction",
        "statsPeriod": "7d"},
}
PERCENTILE_QUERY = {"field": ["transaction", "p95(transaction.duration)", "count()"],
                    "statsPeriod": "24h", "query": "event.type:transaction"}


def timed(client: httpx.Client, params: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("organizations/acme/events/", params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 \
        else values[0]


def cache_runs(url: str, runs: int, admin: httpx.Client) -> tuple[int, int, int, float, float]:
    """`dexter query` `runs` times in one directory within the TTL: hits, misses, events
    requests the emulator served, first-run and mean later-run seconds."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")},
           "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": TOKEN, "SENTRY_ORG": "acme"}
    admin.delete("counters/")
    hits = misses = 0
    seconds = []
    with tempfile.TemporaryDirectory() as cwd:
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", "from dexter_sync.cli.main import main; main()", "-v",
                 "query", "--field", "release", "--field", "count()", "--period", "24h",
                 "--cache-ttl", "600"], env=env, cwd=cwd, capture_output=True, text=True,
                timeout=300, check=True)
            seconds.append(time.perf_counter() - started)
            hits += "query cache: hit" in done.stderr
            misses += "query cache: miss" in done.stderr
    counters = admin.get("counters/").json()
    served = sum(n for key, n in _flat(counters).items()
                 if "/organizations/{org}/events/" in key)
    later = statistics.fmean(seconds[1:]) if len(seconds) > 1 else 0.0
    return hits, misses, served, seconds[0], later


def _flat(counters: dict) -> dict[str, int]:
    routes = counters.get("routes") or counters
    return {k: v if isinstance(v, int) else sum(x for x in v.values() if isinstance(x, int))
            for k, v in routes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, emulator_process(
            TOKEN, "--db", f"{tmp}/bench.sqlite", "--projects", ",".join(PROJECTS)) as (url,
                                                                                    admin):
        started = time.perf_counter()
        made = admin.post("events/generate/", json={
            "count": args.events, "projects": PROJECTS, "seed": 42,
            "releases": [{"version": f"1.{i}.0", "error_rate": 0.05 + 0.01 * i}
                         for i in range(10)]})
        made.raise_for_status()
        generation = time.perf_counter() - started
        print(f"generated {made.json()['inserted']:,} events in {generation:.1f} s "
              f"({made.json()['inserted'] / generation:,.0f} events/s)")
        with httpx.Client(base_url=f"{url}/api/0/", timeout=300,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            for name, params in QUERIES.items():
                times = timed(client, params, args.repeat)
                print(f"{name}: p50 {statistics.median(times):.0f} ms, p95 {p95(times):.0f} ms "
                      f"over {args.repeat} requests; p95 / {P95_TARGET_MS:.0f} ms target = "
                      f"{p95(times) / P95_TARGET_MS:.2f}")
            times = timed(client, PERCENTILE_QUERY, max(3, args.repeat // 10))
            print(f"p95(transaction.duration) by transaction (24h): p50 "
                  f"{statistics.median(times):.0f} ms, p95 {p95(times):.0f} ms")
        hits, misses, served, first, later = cache_runs(url, args.runs, admin)
        rate = hits / args.runs
        print(f"dexter query x{args.runs} within the TTL: {hits} hits, {misses} misses, "
              f"hit rate {rate:.2f} (target {HIT_RATE_TARGET}, ratio "
              f"{rate / HIT_RATE_TARGET:.2f}); events requests served: {served}; first run "
              f"{first:.2f} s, later runs {later:.2f} s on average")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
