"""Benchmark: how long `dexter --help` and `dexter validate` of a small manifest take over
the interpreter's own start (`python -c pass`). This is what a pre-commit hook or a CI step
pays on every call.

Each command runs as its own process (the installed `dexter` script), best of --repeat;
the figures printed are wall seconds and the difference to `python -c pass`, plus the
modules a command imports (`python -X importtime`: the heaviest ones). Not a test.

    python benchmarks/startup_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL = """\
metric_alerts:
  - name: Errors
    project: backend
    aggregate: count()
    time_window: 5m
    triggers:
      critical:
        threshold: 100
        actions:
          - email: {team: backend-team}
issue_alerts:
  - name: New issues
    project: backend
    conditions: [first_seen_event]
    actions:
      - email: {target: issue_owners}
"""
HEAVY = ("httpx", "starlette", "uvicorn", "dexter_sync.emulator", "dexter_sync.core.planning",
         "dexter_sync.sentry", "deepdiff", "jinja2", "tenacity", "pydantic")


def best_of(argv: list[str], repeat: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds: user + system) over `repeat` runs. CPU time
    moves less than wall time when other processes load the machine."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = min(wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = min(cpu, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def imported(code: str) -> set[str]:
    """Top-level packages (and dexter modules) imported by running `code`."""
    # from a neutral directory: `-c` puts the current one first on sys.path
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=False,
                          capture_output=True, text=True, cwd=tempfile.gettempdir())
    names = set()
    for line in done.stderr.splitlines():
        if "|" in line and not line.endswith("imported package"):
            names.add(line.rsplit("|", 1)[1].strip())
    return {h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    dexter = str(Path(sys.executable).with_name("dexter"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
        (root / "r.yaml").write_text(SMALL)
        base, base_cpu = best_of([sys.executable, "-c", "pass"], args.repeat)
        runs = {"dexter --help": [dexter, "--help"],
                "dexter validate (2 resources)": [dexter, "validate", str(root)]}
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
              f"best of {args.repeat}")
        print(f"python -c pass: wall {base:.3f}s, cpu {base_cpu:.3f}s")
        for name, argv in runs.items():
            wall, cpu = best_of(argv, args.repeat)
            print(f"{name}: wall {wall:.3f}s ({wall - base:+.3f}s over python -c pass), "
                  f"cpu {cpu:.3f}s ({cpu - base_cpu:+.3f}s over)")
    main_imports = imported("import sys; sys.argv=['dexter','--help']\n"
                            "from dexter_sync.cli.main import cli\n"
                            "cli.main(standalone_mode=False)")
    print(f"heavy packages imported by --help: {sorted(main_imports) or 'none'}")


if __name__ == "__main__":
    main()
