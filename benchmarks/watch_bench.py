"""`dexter watch` under load, on loopback (the daemon and the emulator as processes):

1. 100 SSE subscribers connected; signed `POST /webhooks/sentry` at a fixed rate: p50/p95/p99
   of the POST latency (target p95 < 50 ms) and the time from each POST to the event's
   delivery to all 100 subscribers.
2. RSS of a daemon after 10 cycles and after 1,000 cycles (interval 1 ms): memory stays flat.

    python benchmarks/watch_bench.py [--subscribers 100] [--rate 50] [--seconds 10] [--cycles 1000]

Prints figures and ratios; the machine's load average is printed with them (other work on
the machine moves absolute numbers, ratios less).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from dexter_sync.watch.webhooks import sign

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: the shared helper beside it
from _common import emulator_process

TOKEN = "bench-token"
SECRET = "bench-webhook-secret"
MANIFEST = {"dexter.yaml": "version: 1\norganization: acme\ninclude: [alerts.yaml]\n",
            "alerts.yaml": """\
metric_alerts:
  - name: backend errors
    project: backend
    aggregate: count()
    time_window: 5m
    triggers:
      critical:
        threshold: 100
        actions: [{email: {team: backend}}]
"""}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextmanager
def daemon(url: str, manifests: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {**os.environ, "SENTRY_URL": url, "SENTRY_AUTH_TOKEN": TOKEN,
           "DEXTER_WEBHOOK_SECRET": SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from dexter_sync.cli.main import main; main()", "watch",
         str(manifests), "--serve", "127.0.0.1:0", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith('{"serving"'):
                served = json.loads(line)["serving"]
                break
        else:
            raise RuntimeError("the daemon did not start")
        yield proc, served
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        if proc.stderr:
            proc.stderr.close()


def metric(served: str, name: str) -> float:
    for line in httpx.get(f"{served}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise RuntimeError(f"no metric {name}")


async def fan_out(served: str, subscribers: int, rate: float, seconds: float) -> dict[str, Any]:
    arrivals: dict[str, list[float]] = {}
    sent: dict[str, float] = {}
    ready = 0

    async def subscribe(client: httpx.AsyncClient) -> None:
        nonlocal ready
        async with client.stream("GET", f"{served}/events?types=issue.new") as response:
            ready += 1
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    key = json.loads(line[6:])["key"]
                    arrivals.setdefault(key, []).append(time.perf_counter())

    limits = httpx.Limits(max_connections=subscribers + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), limits=limits) as sse, \
            httpx.AsyncClient(timeout=30) as poster:
        readers = [asyncio.ensure_future(subscribe(sse)) for _ in range(subscribers)]
        while ready < subscribers:
            await asyncio.sleep(0.01)
        while metric(served, "dexter_watch_stream_subscribers") < subscribers:
            await asyncio.sleep(0.05)
        latencies: list[float] = []

        async def post(n: int) -> None:
            key = f"BENCH-{n}"
            body = json.dumps({"action": "created", "data": {"issue": {
                "id": str(n), "shortId": key, "title": f"bench {n}",
                "project": {"slug": "backend"}}}}).encode()
            headers = {"Sentry-Hook-Resource": "issue", "Content-Type": "application/json",
                       "Sentry-Hook-Signature": sign(SECRET, body)}
            started = time.perf_counter()
            sent[key] = started
            response = await poster.post(f"{served}/webhooks/sentry", content=body,
                                         headers=headers)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text

        total = int(rate * seconds)
        start = time.perf_counter()
        posts = []
        for n in range(total):  # a fixed rate: request n leaves at start + n / rate
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.ensure_future(post(n)))
        await asyncio.gather(*posts)
        deadline = time.perf_counter() + 30
        while (sum(len(arrivals.get(k, [])) == subscribers for k in sent) < total
               and time.perf_counter() < deadline):
            await asyncio.sleep(0.05)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    complete = [max(arrivals[k]) - sent[k] for k in sent
                if len(arrivals.get(k, [])) == subscribers]
    return {"posts": total, "latencies": latencies, "delivered_to_all": len(complete),
            "fan_out": complete, "dropped": None}


def cycles_rss(url: str, manifests: Path, cycles: int) -> tuple[float, float, float]:
    with daemon(url, manifests, "--interval", "1ms") as (proc, served):
        def wait_cycles(n: int) -> None:
            while metric(served, "dexter_watch_cycles_total") < n:
                time.sleep(0.05)

        started = time.perf_counter()
        wait_cycles(10)
        at_10 = rss_mb(proc.pid)
        wait_cycles(cycles)
        at_n = rss_mb(proc.pid)
        return at_10, at_n, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0, help="webhook POSTs per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--cycles", type=int, default=1000)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        manifests = Path(tmp) / "sentry"
        manifests.mkdir()
        for name, text in MANIFEST.items():
            (manifests / name).write_text(text)
        with emulator_process(TOKEN, "--org", "acme", "--projects", "backend",
                              "--seed-from", str(manifests)) as (url, _admin):
            with daemon(url, manifests, "--interval", "60s") as (_proc, served):
                result = asyncio.run(fan_out(served, args.subscribers, args.rate, args.seconds))
                dropped = metric(served, "dexter_watch_stream_dropped_total")
            lat = [v * 1000 for v in result["latencies"]]
            fan = [v * 1000 for v in result["fan_out"]]
            print(f"webhooks: {result['posts']} POSTs at {args.rate:g}/s with "
                  f"{args.subscribers} SSE subscribers")
            print(f"  POST latency ms: p50 {percentile(lat, 0.5):.1f}  p95 "
                  f"{percentile(lat, 0.95):.1f}  p99 {percentile(lat, 0.99):.1f}  "
                  f"(p95 / 50 ms target = {percentile(lat, 0.95) / 50:.2f})")
            print(f"  event -> all {args.subscribers} subscribers ms: p50 "
                  f"{percentile(fan, 0.5):.1f}  p95 {percentile(fan, 0.95):.1f}  p99 "
                  f"{percentile(fan, 0.99):.1f}; delivered to all: "
                  f"{result['delivered_to_all']}/{result['posts']}; dropped: {dropped:g}")
            at_10, at_n, took = cycles_rss(url, manifests, args.cycles)
            print(f"memory: RSS {at_10:.1f} MB after 10 cycles, {at_n:.1f} MB after "
                  f"{args.cycles} cycles (ratio {at_n / at_10:.3f}; {took:.0f} s of cycles)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
