"""Benchmark: `load_manifests` on 10,000 resources in 200 files (all five sections).

Prints wall-clock and CPU seconds (best of --repeat), resources per second, peak traced Python
memory (tracemalloc, a separate run) and the process's max RSS. Not a test: figures only.

    python benchmarks/validate_bench.py [--resources 10000] [--files 200]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from dexter_sync.manifest import load_manifests

SETTINGS = """\
version: 1
organization: bench
vars: {oncall: "#oncall"}
defaults: {environment: production}
include: ["alerts/*.yaml", "other/*.yaml", "gen/*.yaml.j2"]
"""


def metric_alert(ident: str, n: int) -> str:
    return f"""\
  - name: "metric alert {ident}"
    project: p{n % 7}
    aggregate: count()
    query: "event.type:error"
    time_window: 5m
    triggers:
      critical:
        threshold: {100 + n}
        actions: [{{slack: {{channel: "{{{{ vars.oncall }}}}", workspace: acme-slack}}}}]
      warning:
        threshold: {50 + n}
        actions: [{{email: {{team: backend}}}}]
"""


def issue_alert(ident: str, n: int) -> str:
    return f"""\
  - name: "issue alert {ident}"
    project: p{n % 7}
    frequency: 1h
    conditions: [first_seen_event, {{event_frequency: {{value: 100, interval: 1h}}}}]
    filters: [{{level: {{match: gte, level: error}}}}]
    actions: [{{email: {{team: backend}}}}]
"""


def discover_query(ident: str, n: int) -> str:
    return f"""\
  - name: "query {ident}"
    projects: [p{n % 7}]
    fields: [title, count()]
    query: "event.type:error"
    range: 24h
"""


def release(ident: str, n: int) -> str:
    return f"""\
  - version: "app@{ident}"
    projects: [p{n % 7}]
    deploys: [{{environment: production, name: "d{n % 50}"}}]
"""


def link(ident: str, n: int) -> str:
    return f"""\
  - {{type: repository, name: "acme/repo-{ident}", integration: acme-github}}
"""


SECTIONS = [("metric_alerts", metric_alert), ("issue_alerts", issue_alert),
            ("discover_queries", discover_query), ("releases", release),
            ("integration_links", link)]


def generate(root: Path, resources: int, files: int) -> int:
    """Write the tree; returns the number of resources the loader should find."""
    (root / "dexter.yaml").write_text(SETTINGS)
    per_file = resources // files
    expected = 0
    for f in range(files):
        section, make = SECTIONS[f % len(SECTIONS)]
        folder = "alerts" if "alerts" in section else "other"
        if f % 20 == 19:  # some files are templates, rendered whole by jinja2
            body = (f"{section}:\n{{% for i in range({per_file}) %}}\n"
                    + make(f"t{f}-{{{{ i }}}}", f) + "{% endfor %}\n")
            path = root / "gen" / f"f{f:03}.yaml.j2"
        else:
            body = f"# yaml-language-server: $schema=../schemas/resources.schema.json\n{section}:\n"
            body += "".join(make(str(f * per_file + i), f * per_file + i) for i in range(per_file))
            path = root / folder / f"f{f:03}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
        expected += per_file * (2 if section == "releases" else 1)  # + one deploy each
    return expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        expected = generate(root, args.resources, args.files)
        timings, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            state = load_manifests(root)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        if len(state.resources) != expected:
            sys.exit(f"loaded {len(state.resources)} resources, expected {expected}")
        tracemalloc.start()
        load_manifests(root)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    best = min(timings)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"files: {args.files}  entries: {args.resources}  resources (with deploys): {expected}")
    print(f"load_manifests: best {best:.2f} s of {args.repeat} "
          f"(runs: {', '.join(f'{t:.2f}' for t in timings)})")
    print(f"CPU time: best {min(cpu):.2f} s (wall time is higher when the machine is busy)")
    print(f"throughput: {expected / best:,.0f} resources/s, {best / expected * 1e6:.0f} µs each")
    print(f"peak traced Python memory: {peak / 1048576:.1f} MiB;  max RSS: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
