"""Emulator throughput on loopback: paginated list requests per second with 10,000 rules.

Starts `dexter emulator` as a subprocess, seeds rules through the admin endpoint, then runs
a few httpx clients, each in its own process (so no client shares an interpreter with
another or with the server), that walk list pages by their `Link` cursors. Prints the
figures and the ratio to the 500 req/s target. The first pass over a list renders every
row (cold); later passes reuse the rendered rows (warm), as repeated plans do.

    python benchmarks/emulator_bench.py [--rules 10000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TARGET = 500.0
TOKEN = "bench-token"
NEXT = re.compile(r'<([^>]+)>; rel="next"; results="true"')


def walk(base: str, first: str, start_at: float, seconds: float) -> int:
    """One client: follow `next` links from `first` (starting over at the end) until the
    time is up; returns the number of requests served."""
    count, url = 0, first
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30) as client:
        client.get(first).raise_for_status()  # open the connection before the clock starts
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < start_at + seconds:
            response = client.get(url)
            response.raise_for_status()
            count += 1
            match = NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else first
    return count


def measure(base: str, paths: list[str], *, clients: int, seconds: float) -> float:
    start_at = time.time() + 1.0
    with multiprocessing.Pool(clients) as pool:
        counts = pool.starmap(walk, [(base, paths[i % len(paths)], start_at, seconds)
                                     for i in range(clients)])
    return sum(counts) / seconds


def app_time(rules: int, projects: int, path: str, query: bytes, n: int = 300) -> float:
    """Microseconds the app itself spends on one request (in-process, no HTTP, no client):
    what the emulator costs apart from uvicorn and the network."""
    from dexter_sync.emulator import EmulatorConfig, create_app

    app = create_app(EmulatorConfig(token=TOKEN))

    async def call(method: str, target: str, qs: bytes = b"", body: bytes = b"") -> int:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": target,
                 "raw_path": target.encode(), "query_string": qs, "root_path": "",
                 "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {TOKEN}".encode()),
                             (b"content-type", b"application/json")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict] = []

        async def receive() -> dict:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"]

    async def run() -> float:
        seed = json.dumps({"metric_rules": rules, "issue_rules": rules, "projects": projects})
        assert await call("POST", "/__emulator__/seed/", body=seed.encode()) == 201
        assert await call("GET", path, query) == 200
        started = time.perf_counter()
        for _ in range(n):
            await call("GET", path, query)
        return (time.perf_counter() - started) / n * 1e6

    try:
        return asyncio.run(run())
    finally:
        app.state.store.close()


def cold_pass(base: str, first: str) -> tuple[int, float]:
    """Every page of a list once, right after seeding (nothing rendered yet)."""
    started, pages, url = time.perf_counter(), 0, first
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=60) as client:
        while url:
            response = client.get(url)
            response.raise_for_status()
            pages += 1
            match = NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else ""
    return pages, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000, help="metric and issue rules each")
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    micros = app_time(args.rules, args.projects, "/api/0/organizations/acme/alert-rules/",
                      b"per_page=100&cursor=100:50:0")
    print(f"app time per metric-alert page of 100 (in-process, no HTTP): {micros:.0f} us "
          f"(= {1e6 / micros:.0f} req/s for the app alone, ratio to {TARGET:.0f}: "
          f"{1e6 / micros / TARGET:.2f})")
    print(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with emulator_process(TOKEN) as (url, admin):
        started = time.monotonic()
        admin.post("seed/", json={"metric_rules": args.rules, "issue_rules": args.rules,
                                  "projects": args.projects}).raise_for_status()
        print(f"seeded {args.rules} metric + {args.rules} issue rules over {args.projects} "
              f"projects in {time.monotonic() - started:.1f}s")
        pages, elapsed = cold_pass(url, "/api/0/organizations/acme/alert-rules/?per_page=100")
        print(f"cold pass over {args.rules} metric rules: {pages} pages in {elapsed:.2f}s "
              f"({pages / elapsed:.0f} req/s, ratio to {TARGET:.0f}: {pages / elapsed / TARGET:.2f})")
        results = {
            "metric alert list (org, per_page=100)": [
                "/api/0/organizations/acme/alert-rules/?per_page=100"],
            "issue alert list (per project, per_page=100)": [
                f"/api/0/projects/acme/seed-{i:03d}/rules/?per_page=100"
                for i in range(args.projects)],
            "metric alert list (org, per_page=25 default)": [
                "/api/0/organizations/acme/alert-rules/"],
        }
        for label, paths in results.items():
            rates = [measure(url, paths, clients=args.clients, seconds=args.seconds)
                     for _ in range(args.rounds)]
            rate = statistics.median(rates)
            print(f"{label}: median {rate:.0f} req/s over {args.rounds} rounds "
                  f"({', '.join(f'{r:.0f}' for r in rates)}) with {args.clients} clients "
                  f"(ratio to {TARGET:.0f} req/s: {rate / TARGET:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
