"""`dexter watch` under load, on loopback (the daemon and the emulator as processes):

1. 100 SSE subscribers connected; signed `POST /webhooks/sentry` at a fixed rate: p50/p95/p99
   of the POST latency (target p95 < 50 ms) and the time from each POST to the event's
   delivery to all 100 subscribers.
   The subscribers run in a process of their own, so their parsing does not delay the
   POSTs being timed.
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (load-independent cost)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def _subscribers(served: str, count: int, expect: int) -> None:
    """The subscriber side, in a process of its own (`--subscriber-side`): `count` raw SSE
    connections; prints "ready", then, once every connection saw `expect` events (or 60 s
    passed), one JSON line {key: [arrival wall-clock times]}."""
    host, port = served.removeprefix("http://").split(":")
    arrivals: dict[str, list[float]] = {}
    seen = [0] * count
    connected = 0

    async def one(index: int) -> None:
        nonlocal connected
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /events?types=issue.new HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
        while (await reader.readline()).strip():  # status line and headers
            pass
        connected += 1
        while seen[index] < expect:
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                arrivals.setdefault(json.loads(line[6:])["key"], []).append(time.time())
                seen[index] += 1
        writer.close()

    tasks = [asyncio.ensure_future(one(i)) for i in range(count)]
    while connected < count:
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await asyncio.wait(tasks, timeout=60 + expect / 10)
    print(json.dumps(arrivals), flush=True)


def fan_out(served: str, subscribers: int, rate: float, seconds: float) -> dict[str, Any]:
    total = int(rate * seconds)
    side = subprocess.Popen([sys.executable, __file__, "--subscriber-side", served,
                             str(subscribers), str(total)], stdout=subprocess.PIPE, text=True)
    assert side.stdout is not None
    assert side.stdout.readline().strip() == "ready"
    while metric(served, "dexter_watch_stream_subscribers") < subscribers:
        time.sleep(0.05)
    sent, latencies = asyncio.run(_post_at_rate(served, rate, total))
    arrivals: dict[str, list[float]] = json.loads(side.stdout.readline())
    side.wait(30)
    complete = [max(arrivals[k]) - sent[k] for k in sent
                if len(arrivals.get(k, [])) == subscribers]
    return {"posts": total, "latencies": latencies, "delivered_to_all": len(complete),
            "fan_out": complete}


async def _post_at_rate(served: str, rate: float, total: int
                        ) -> tuple[dict[str, float], list[float]]:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=30) as poster:
        async def post(n: int) -> None:
            key = f"BENCH-{n}"
            body = json.dumps({"action": "created", "data": {"issue": {
                "id": str(n), "shortId": key, "title": f"bench {n}",
                "project": {"slug": "backend"}}}}).encode()
            headers = {"Sentry-Hook-Resource": "issue", "Content-Type": "application/json",
                       "Sentry-Hook-Signature": sign(SECRET, body)}
            sent[key] = time.time()
            started = time.perf_counter()
            response = await poster.post(f"{served}/webhooks/sentry", content=body,
                                         headers=headers)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text

        start = time.perf_counter()
        posts = []
        for n in range(total):  # a fixed rate: request n leaves at start + n / rate
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.ensure_future(post(n)))
        await asyncio.gather(*posts)
    return sent, latencies


def cycles_rss(url: str, manifests: Path, cycles: int) -> tuple[list[tuple[int, float]], float]:
    """RSS (MB) at 10 cycles, at a few points on the way, and at `cycles`."""
    marks = sorted({10, *(cycles * k // 4 for k in (1, 2, 3)), cycles})
    with daemon(url, manifests, "--interval", "1ms") as (proc, served):
        started = time.perf_counter()
        found: list[tuple[int, float]] = []
        for mark in marks:
            while metric(served, "dexter_watch_cycles_total") < mark:
                time.sleep(0.05)
            found.append((mark, rss_mb(proc.pid)))
        return found, time.perf_counter() - started


def main() -> None:
    if sys.argv[1:2] == ["--subscriber-side"]:
        served, count, expect = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        asyncio.run(_subscribers(served, count, expect))
        return
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
            with daemon(url, manifests, "--interval", "60s") as (proc, served):
                cpu_before = cpu_seconds(proc.pid)
                result = fan_out(served, args.subscribers, args.rate, args.seconds)
                cpu = cpu_seconds(proc.pid) - cpu_before
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
            print(f"  daemon CPU: {cpu * 1000 / result['posts']:.2f} ms per webhook event "
                  f"(POST + delivery to {args.subscribers} subscribers); at {args.rate:g}/s "
                  f"that is {cpu / args.seconds:.2f} of one core while the run lasted")
            marks, took = cycles_rss(url, manifests, args.cycles)
            (_, at_10), (_, at_n) = marks[0], marks[-1]
            print("memory: RSS " + ", ".join(f"{mb:.1f} MB after {n}" for n, mb in marks)
                  + f" cycles; {args.cycles} vs 10: ratio {at_n / at_10:.3f} "
                  f"({took:.0f} s of cycles)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
