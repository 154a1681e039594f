"""Benchmark: `dexter plan` of a 6,000-object organization against Sentry's fixed windows.

The emulator runs as its own process with Sentry's rate limiting: per endpoint, a fixed
one-second window of 40 requests aligned to the clock, at most 25 requests in flight,
20 ms added latency, no `Retry-After`, the `X-Sentry-Rate-Limit-*` headers on every answer.
`dexter plan` runs as a process too (its start included), with manifests that prune every
kind, so it reads every object. Printed:

  429s             answers the limiter refused                              target 0
  time ratio       wall time / (busiest endpoint's requests / rate): 1.0 is the fastest
                   the limits allow                                         target <= 1.1

A second figure isolates the pacing from the machine: 300 list requests through the
gateway to a light in-process server that applies the emulator's fixed-window limiter
(the same 40/s, 25 in flight, 20 ms) and serves a tiny page, so a loaded machine slows the
work little and the ratio shows what the pacing itself costs.

    python benchmarks/pacing_bench.py [--projects 300] [--rate-limit 40] [--runs 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TOKEN = "pacing-token"
SETTINGS = """\
version: 1
organization: acme
include: []
prune: {metric_alerts: true, issue_alerts: true, discover_queries: true}
"""


def isolated(requests: int, limit: int, concurrent: int, latency_ms: int
             ) -> tuple[float, int]:
    """(wall seconds, 429s) for `requests` GETs of one endpoint against Sentry's windows."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from dexter_sync.core.requests import ApiRequest
    from dexter_sync.emulator.config import RateLimitSettings
    from dexter_sync.emulator.limits import RateLimiter as SentryWindows
    from dexter_sync.sentry.client import SentryClient
    from dexter_sync.sentry.errors import RateLimited
    from dexter_sync.sentry.gateway import Gateway, GatewaySettings

    windows = SentryWindows(RateLimitSettings(enabled=True, limit=limit, window=1,
                                              concurrency=concurrent))
    refused = 0

    async def page(request: Request) -> JSONResponse:
        nonlocal refused
        decision = windows.acquire("GET rules")
        if not decision.allowed:
            refused += 1
            return JSONResponse(decision.body, status_code=429, headers=decision.headers)
        try:
            await asyncio.sleep(latency_ms / 1000)
            return JSONResponse([{"id": "1"}], headers=decision.headers)
        finally:
            windows.release("GET rules")

    app = Starlette(routes=[Route("/api/0/projects/acme/{project}/rules/", page)])

    async def run() -> float:
        client = SentryClient(base_url="http://sentry.test", token=TOKEN,
                              transport=httpx.ASGITransport(app=app))
        gateway = Gateway(client, GatewaySettings(concurrency=16))
        try:
            started = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for n in range(requests):
                    group.create_task(gateway.request(
                        ApiRequest("GET", f"projects/acme/p{n}/rules/")))
            return time.perf_counter() - started
        except BaseExceptionGroup as errors:
            if errors.subgroup(RateLimited):
                return float("nan")
            raise
        finally:
            await gateway.aclose()

    wall = asyncio.run(run())
    return wall, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--metric-rules", type=int, default=1500)
    parser.add_argument("--issue-rules", type=int, default=3000)
    parser.add_argument("--saved-queries", type=int, default=1500)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rate-limit", type=int, default=40)
    parser.add_argument("--concurrent-limit", type=int, default=25)
    parser.add_argument("--runs", type=int, default=1, help="plans in a row (best is shown)")
    args = parser.parse_args()
    dexter = str(Path(sys.executable).with_name("dexter"))

    with emulator_process(TOKEN, "--rate-limit", str(args.rate_limit), "--rate-window", "1",
                          "--concurrency", str(args.concurrent_limit)) as (url, admin), \
            tempfile.TemporaryDirectory() as tmp:
        admin.post("seed/", json={"metric_rules": args.metric_rules,
                                  "issue_rules": args.issue_rules, "projects": args.projects,
                                  "saved_queries": args.saved_queries}).raise_for_status()
        admin.put("faults/", json={"latency_ms": args.latency_ms}).raise_for_status()
        (Path(tmp) / "dexter.yaml").write_text(SETTINGS)
        env = {**os.environ, "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": TOKEN}
        env.pop("SENTRY_ORG", None)
        results = []
        for _ in range(args.runs):
            admin.delete("counters/").raise_for_status()
            time.sleep(1.0)  # a fresh window: each run starts from a full budget
            started = time.perf_counter()
            done = subprocess.run([dexter, "plan", tmp, "--format", "json", "-v"], env=env,
                                  capture_output=True, text=True, timeout=900, check=False)
            wall = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"dexter plan failed ({done.returncode}): {done.stderr[-2000:]}")
            counters = admin.get("counters/").json()
            results.append((wall, counters, done.stderr))

    wall, counters, stderr = min(results, key=lambda r: r[0])
    made = counters["total"]
    busiest_route, busiest = max(((route, sum(s.values()))
                                  for route, s in counters["routes"].items()),
                                 key=lambda item: item[1])
    floor = busiest / args.rate_limit
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"best of {args.runs} run(s)")
    print(f"objects:          {args.metric_rules + args.issue_rules + args.saved_queries} "
          f"({args.projects} projects)")
    print(f"requests:         {made} (busiest endpoint {busiest_route}: {busiest})")
    print(f"429s:             {counters['rate_limited']}   (target 0)")
    print(f"wall time:        {wall:.2f} s, process start included (limit {args.rate_limit} "
          f"req/s and {args.concurrent_limit} in flight per endpoint, latency "
          f"{args.latency_ms} ms)")
    print(f"time ratio:       {wall / floor:.3f}   (wall / (busiest requests / rate); "
          "target <= 1.1)")
    wall, refused = isolated(300, args.rate_limit, args.concurrent_limit, args.latency_ms)
    print(f"isolated pacing:  300 requests in {wall:.2f} s, 429s {refused}, time ratio "
          f"{wall / (300 / args.rate_limit):.3f}   (wall / (requests / rate))")
    print("\n".join(line for line in stderr.splitlines() if "sentry requests" in line
                    or "rules/" in line or "429" in line[:30]))


if __name__ == "__main__":
    main()
