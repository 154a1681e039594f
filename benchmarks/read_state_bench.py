"""Benchmark: read the live state of 10,000 objects over 500 projects through the facade.

The emulator runs as its own process (`dexter emulator`, as Sentry would be remote) on
loopback, with 20 ms added latency and a rate limit of 40 requests
per second per endpoint (Sentry limits each endpoint apart). Printed figures:

  requests ratio   requests made / minimum requests (pages of 100 + one list per project
                   + the directory's lists)                                  target <= 1.1
  time ratio       wall time / (requests / rate limit)                       target <= 1.1
  bottleneck ratio wall time / (busiest endpoint's requests / rate limit): how close the
                   read comes to the fastest the limits allow (1.0 = at the limit)

    python benchmarks/read_state_bench.py [--projects 500] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from pathlib import Path

from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.facade import SentryFacade
from dexter_sync.sentry.gateway import Gateway, GatewaySettings

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TOKEN = "bench-token"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--metric-rules", type=int, default=4000)
    parser.add_argument("--issue-rules", type=int, default=5000)
    parser.add_argument("--saved-queries", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rate-limit", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    with emulator_process(TOKEN, "--rate-limit", str(args.rate_limit),
                          "--rate-window", "1") as (url, admin):
        admin.post("seed/", json={"metric_rules": args.metric_rules,
                                  "issue_rules": args.issue_rules, "projects": args.projects,
                                  "saved_queries": args.saved_queries}).raise_for_status()
        admin.put("faults/", json={"latency_ms": args.latency_ms}).raise_for_status()
        admin.delete("counters/").raise_for_status()

        async def read():
            client = SentryClient(base_url=url, token=TOKEN)
            facade = SentryFacade(Gateway(client, GatewaySettings(concurrency=args.concurrency)),
                                  "acme")
            try:
                started = time.perf_counter()
                live = await facade.read_state(["metric_alert", "issue_alert", "discover_query"])
                return live, time.perf_counter() - started, facade
            finally:
                await facade.aclose()

        live, wall, facade = asyncio.run(read())
        counters = admin.get("counters/").json()

    objects = sum(len(v) for v in live.objects.values())
    projects = len(live.directory.projects)
    per_project = math.ceil(args.issue_rules / args.projects / 100) if args.projects else 0
    minimum = (math.ceil(args.metric_rules / 100) + projects * max(per_project, 1)
               + math.ceil(args.saved_queries / 100) + math.ceil(projects / 100) + 5)
    made = counters["total"]
    busiest = max(sum(statuses.values()) for statuses in counters["routes"].values())
    by_kind = ", ".join(f"{k}: {len(v)}" for k, v in live.objects.items())
    print(f"objects read:            {objects} ({by_kind})")
    print(f"projects:                {projects}")
    print(f"requests made:           {made} (minimum {minimum}; 429s: {counters['rate_limited']})")
    print(f"wall time:               {wall:.2f} s (latency {args.latency_ms} ms, "
          f"limit {args.rate_limit} req/s per endpoint)")
    print(f"requests ratio:          {made / minimum:.3f}   (target <= 1.1)")
    print(f"time ratio:              {wall / (made / args.rate_limit):.3f}   (target <= 1.1)")
    print(f"bottleneck ratio:        {wall / (busiest / args.rate_limit):.3f}   "
          f"(busiest endpoint: {busiest} requests)")
    print(facade.metrics_summary())


if __name__ == "__main__":
    main()
