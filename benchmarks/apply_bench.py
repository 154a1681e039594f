"""Benchmark: apply 1,000 creates against a rate-limited, slow Sentry.

The emulator runs as its own process (`dexter emulator`, as Sentry would be remote) on
loopback with 20 ms added latency and a limit of 40 requests per second per endpoint. The
manifests declare 1,000 Discover saved queries (all on one endpoint, so the limit binds).
Printed figures (counts from the emulator's admin counters):

  write rate ratio    creates per second during apply / rate limit             target >= 0.9
  requests per change every request of the run (plan reads included) / changes target <= 1.05

    python benchmarks/apply_bench.py [--changes 1000] [--rate-limit 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from dexter_sync.apply.executor import execute_plan
from dexter_sync.cli.plan import load_desired, plan_live
from dexter_sync.sentry.connect import open_facade

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TOKEN = "apply-bench-token"


def write_manifests(root: Path, changes: int) -> None:
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: ['*.yaml']\n")
    lines = ["discover_queries:"]
    for i in range(changes):
        lines += [f"  - name: bench-{i:05d}", "    projects: [backend]",
                  "    fields: [title, count()]", f"    query: 'event.type:error n:{i}'",
                  "    range: 24h"]
    (root / "queries.yaml").write_text("\n".join(lines) + "\n")


async def run(url: str, root: Path, concurrency: int) -> tuple[float, float, dict[str, int]]:
    desired = load_desired(str(root), "acme")
    async with open_facade(sentry_url=url, organization="acme", desired=desired,
                           concurrency=concurrency, notify=lambda _: None) as facade:
        started = time.monotonic()
        plan = await plan_live(facade, desired)
        planned = time.monotonic()
        report = await execute_plan(plan, facade, concurrency=concurrency)
        applied = time.monotonic()
    return planned - started, applied - planned, report.summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rate-limit", type=int, default=40)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    os.environ["SENTRY_AUTH_TOKEN"] = TOKEN
    with emulator_process(TOKEN, "--projects", "backend", "--teams", "backend",
                          "--rate-limit", str(args.rate_limit), "--rate-window", "1",
                          "--latency-ms", str(args.latency_ms)) as (url, admin), \
            tempfile.TemporaryDirectory() as tmp:
        write_manifests(Path(tmp), args.changes)
        admin.delete("counters/").raise_for_status()
        plan_s, apply_s, summary = asyncio.run(run(url, Path(tmp), args.concurrency))
        counters = admin.get("counters/").json()
    routes = counters["routes"]
    posts = sum(sum(s.values()) for r, s in routes.items() if r.startswith("POST "))
    total = counters["total"]
    rate = args.changes / apply_s
    print(f"changes                 {args.changes} ({summary})")
    print(f"rate limit              {args.rate_limit} req/s per endpoint, "
          f"latency {args.latency_ms} ms, concurrency {args.concurrency}")
    print(f"plan                    {plan_s:.2f} s")
    print(f"apply                   {apply_s:.2f} s  ({rate:.1f} creates/s)")
    print(f"write rate ratio        {rate / args.rate_limit:.3f}  (target >= 0.9)")
    print(f"requests                {total} in all, {posts} POST, "
          f"{counters.get('rate_limited', 0)} answered 429")
    print(f"requests per change     {total / args.changes:.3f}  (target <= 1.05)")
    print(f"writes per change       {posts / args.changes:.3f}")


if __name__ == "__main__":
    main()
