"""`dexter selftest`: the contract checks, run against any Sentry (or `dexter emulator`).

    results = await run_selftest(facade, SelftestOptions(project=None, read_only=False))

checks.py     the catalogue of shape checks (which exist, which write)
samples.py    one small manifest entry per kind, named inside the sandbox
sandbox.py    run ids, the `dexter-selftest-<run id>-` prefix, and the sweep that deletes
              prefixed objects (never anything else)
lifecycle.py  per kind: create, read back (list, detail), compare, update, plan quiet, delete
contract.py   response shapes and status codes from REFERENCE.md
traps.py      the traps of REFERENCE.md §14 a round trip would hide
runner.py     runs the catalogue inside the sandbox; sweeps before and after, also on failure
report.py     text and JSON output
"""

from .results import CheckResult
from .runner import SelftestOptions, run_selftest

__all__ = ["CheckResult", "SelftestOptions", "run_selftest"]
