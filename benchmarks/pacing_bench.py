"""Benchmark: `dexter plan` of a 6,000-object organization against Sentry's fixed windows.

The emulator runs as its own process with Sentry's rate limiting: per endpoint, a fixed
one-second window of 40 requests aligned to the clock, at most 25 requests in flight,
20 ms added latency, no `Retry-After`, the `X-Sentry-Rate-Limit-*` headers on every answer.
`dexter plan` runs as a process too (its start included), with manifests that prune every
kind, so it reads every object.

What "requests / rate" means here: N requests at L per fixed window W go out in
K = ceil(N/L) windows; started at a window's beginning, the last batch leaves K-1 windows
later, and the last window counts for its share, (N - (K-1)·L)/L of W: N/L windows in all,
the same as N / rate. A run that starts in the middle of a window may send its first batch
before the first reset and so finish sooner; one whose start-up straddles a reset loses
that window. So the plans start at evenly spread points of the window (`--runs` of them,
the first at a window's beginning) and the figure to meet is their mean, as a user starting
at any moment would see it; the worst is printed beside it. Printed per plan:

  phase          where in the window the process was started (0: at a reset)
  start-up       process start to the first answer (imports, manifests, first request)
  requests       first answer to last answer
  after          last answer to the process' exit (planning, rendering the plan, exit)
  waited         time the client spent waiting for a window (dexter's -v summary)
  429s           answers the limiter refused                              target 0
  ratio          wall time / (busiest endpoint's requests / rate)         target <= 1.1 (mean)

A second figure isolates the pacing from the machine: 300 list requests through the
gateway to a light in-process server that applies the emulator's fixed-window limiter
(the same 40/s, 25 in flight, 20 ms) and serves a tiny page, so a loaded machine slows the
work little and the ratio shows what the pacing itself costs.

    python benchmarks/pacing_bench.py [--projects 300] [--rate-limit 40] [--runs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
WINDOW = 1.0
"""The emulator's window (`--rate-window 1`), in seconds."""


@dataclass
class PlanRun:
    phase: float
    wall: float
    startup: float
    requests_time: float
    after: float
    waited: float
    counters: dict[str, Any]
    summary: list[str]


def start_at(phase: float) -> None:
    """Sleep into a fresh window (none of the previous plan's requests counted in it), to
    `phase` of it."""
    now = time.time()
    boundary = (int(now / WINDOW) + 1) * WINDOW
    time.sleep(boundary + phase * WINDOW - now)


def plan_once(dexter: str, manifests: str, env: dict[str, str], admin: httpx.Client,
              phase: float) -> PlanRun:
    admin.delete("counters/").raise_for_status()
    start_at(phase)
    spawned = time.time()
    done = subprocess.run([dexter, "plan", manifests, "--format", "json", "-v"], env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    ended = time.time()
    if done.returncode != 0:
        sys.exit(f"dexter plan failed ({done.returncode}): {done.stderr[-2000:]}")
    counters = admin.get("counters/").json()
    waited = re.search(r"waited for rate limits: ([0-9.]+)s", done.stderr)
    summary = [line for line in done.stderr.splitlines()
               if line.startswith(("sentry requests:", "  GET "))]
    return PlanRun(phase=phase, wall=ended - spawned, startup=counters["first_at"] - spawned,
                   requests_time=counters["last_at"] - counters["first_at"],
                   after=ended - counters["last_at"],
                   waited=float(waited.group(1)) if waited else float("nan"),
                   counters=counters, summary=summary[:3])


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
    parser.add_argument("--runs", type=int, default=4,
                        help="plans, started at evenly spread points of the window")
    args = parser.parse_args()
    dexter = str(Path(sys.executable).with_name("dexter"))
    load_before = os.getloadavg()[0]

    with emulator_process(TOKEN, "--rate-limit", str(args.rate_limit), "--rate-window",
                          str(int(WINDOW)), "--concurrency", str(args.concurrent_limit)
                          ) as (url, admin), tempfile.TemporaryDirectory() as tmp:
        admin.post("seed/", json={"metric_rules": args.metric_rules,
                                  "issue_rules": args.issue_rules, "projects": args.projects,
                                  "saved_queries": args.saved_queries}).raise_for_status()
        admin.put("faults/", json={"latency_ms": args.latency_ms}).raise_for_status()
        (Path(tmp) / "dexter.yaml").write_text(SETTINGS)
        env = {**os.environ, "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": TOKEN}
        env.pop("SENTRY_ORG", None)
        runs = [plan_once(dexter, tmp, env, admin, n / args.runs) for n in range(args.runs)]

    routes = runs[0].counters["routes"]
    busiest_route, busiest = max(((route, sum(s.values())) for route, s in routes.items()),
                                 key=lambda item: item[1])
    floor = busiest / args.rate_limit * WINDOW
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
          f"{os.cpu_count()} cores; {args.runs} plan(s)")
    print(f"objects:   {args.metric_rules + args.issue_rules + args.saved_queries} "
          f"({args.projects} projects); limit {args.rate_limit} req per {WINDOW:g} s window "
          f"and {args.concurrent_limit} in flight per endpoint, latency {args.latency_ms} ms")
    print(f"requests:  {runs[0].counters['total']} (busiest endpoint {busiest_route}: "
          f"{busiest}); requests / rate = {floor:.2f} s")
    print("phase  wall s  start-up  requests  after  waited  429s  ratio")
    for run in runs:
        print(f"{run.phase:5.2f}  {run.wall:6.2f}  {run.startup:8.2f}  "
              f"{run.requests_time:8.2f}  {run.after:5.2f}  {run.waited:6.2f}  "
              f"{run.counters['rate_limited']:4d}  {run.wall / floor:5.3f}")
    ratios = [run.wall / floor for run in runs]
    print(f"429s:      {sum(run.counters['rate_limited'] for run in runs)}   (target 0)")
    print(f"ratio:     mean {statistics.mean(ratios):.3f}   (target <= 1.1), worst "
          f"{max(ratios):.3f}; wall / (busiest requests / rate), process start included")
    wall, refused = isolated(300, args.rate_limit, args.concurrent_limit, args.latency_ms)
    print(f"pacing alone: 300 requests in {wall:.2f} s, 429s {refused}, ratio "
          f"{wall / (300 / args.rate_limit * WINDOW):.3f}   (wall / (requests / rate))")
    print("\n".join(runs[-1].summary))


if __name__ == "__main__":
    main()
