"""Benchmark: how fast and how cheaply hostile input is refused.

Printed figures:

  template <expr>     seconds until the sandbox refuses it (unbounded it took minutes or GBs)
  huge body           peak memory traced while a 100 MB JSON body is refused at the cap,
                      bytes the server got to send, seconds to refusal
  trickle             seconds until a server sending one byte per 0.5 s hits the deadline
                      (ratio to the configured deadline: target close to 1.0)

    python benchmarks/hostile_bench.py [--deadline 3] [--cap-mb 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' hostile server

from dexter_sync.manifest.templating import TemplateContext, TemplateRenderer
from dexter_sync.sentry.answers import AnswerLimits
from dexter_sync.sentry.client import SentryClient
from dexter_sync.sentry.errors import SentryError
from tests import hostile_http

TEMPLATES = [
    "{{ 'x'|center(1500000000) }}",
    "{{ ((10**1000)**1000)**1000 }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
]


def templates() -> None:
    for expression in TEMPLATES:
        renderer = TemplateRenderer(TemplateContext())
        started = time.perf_counter()
        _, problem = renderer.render_file(expression, "bench.yaml.j2")
        took = time.perf_counter() - started
        code = problem.code if problem else "rendered!"
        print(f"template {expression[:60]:<62} {took:8.3f} s  {code}")


async def _read(url: str, limits: AnswerLimits) -> str:
    client = SentryClient(base_url=url, token="bench", limits=limits)
    try:
        await client.send("GET", "organizations/acme/alert-rules/")
        return "read!"
    except SentryError as error:
        return error.code
    finally:
        await client.aclose()


def huge(cap_mb: int) -> None:
    total = 100 * 1024 * 1024
    with hostile_http.hostile_server() as server:
        server.behaviour = hostile_http.huge(server, total=total, declare=False)
        tracemalloc.start()
        started = time.perf_counter()
        code = asyncio.run(_read(server.url, AnswerLimits(deadline=60,
                                                          max_bytes=cap_mb << 20)))
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sent = server.bytes_sent
    print(f"huge body 100 MiB, cap {cap_mb} MiB: peak traced {peak / 2**20:.1f} MiB, server "
          f"sent {sent / 2**20:.1f} MiB, refused in {took:.2f} s ({code})")


def trickle(deadline: float) -> None:
    with hostile_http.hostile_server() as server:
        server.behaviour = hostile_http.trickle(server, every=0.5)
        started = time.perf_counter()
        code = asyncio.run(_read(server.url, AnswerLimits(deadline=deadline)))
        took = time.perf_counter() - started
    print(f"trickle 1 byte/0.5 s, deadline {deadline:g} s: gave up after {took:.2f} s "
          f"(ratio {took / deadline:.2f}) ({code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=3.0)
    parser.add_argument("--cap-mb", type=int, default=1)
    args = parser.parse_args()
    templates()
    huge(args.cap_mb)
    trickle(args.deadline)


if __name__ == "__main__":
    main()
