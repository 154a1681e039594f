"""Start-up: `dexter --help` and `dexter validate` import only what they use (pre-commit
hooks and CI steps pay this on every call). The figures are in benchmarks/startup_bench.py;
this pins the import graph that makes them, in a fresh interpreter per case."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NETWORK_AND_PLANNER = ("httpx", "starlette", "uvicorn", "tenacity", "deepdiff",
                       "dexter_sync.emulator", "dexter_sync.sentry", "dexter_sync.core.planning",
                       "dexter_sync.apply", "dexter_sync.render")
MANIFEST_STACK = ("pydantic", "yaml", "jinja2", "dexter_sync.kinds", "dexter_sync.manifest")


def modules_after(*argv: str) -> set[str]:
    """The modules loaded once `dexter *argv` ran, in a fresh interpreter."""
    code = ("import json, sys\n"
            "from dexter_sync.cli.main import cli\n"
            f"code = cli.main(args={list(argv)!r}, prog_name='dexter', standalone_mode=False)\n"
            "print(json.dumps([code, sorted(sys.modules)]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    status, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0, done.stderr
    return set(modules)  # the error boundary's escaper is core.escaping: no renderer


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(p for p in prefixes if any(m == p or m.startswith(p + ".") for m in modules))


def test_help_imports_no_verb_and_no_manifest_stack():
    modules = modules_after("--help")
    assert loaded(modules, NETWORK_AND_PLANNER + MANIFEST_STACK) == []
    assert "dexter_sync.cli.plan" not in modules and "dexter_sync.cli.validate" not in modules


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
    (tmp_path / "r.yaml").write_text(
        "metric_alerts:\n  - name: Errors\n    project: backend\n    aggregate: count()\n"
        "    time_window: 5m\n    triggers:\n      critical:\n        threshold: 100\n"
        "        actions:\n          - email: {team: backend-team}\n")
    return tmp_path


def test_validate_imports_no_network_emulator_or_planner(small):
    modules = modules_after("validate", str(small))
    assert loaded(modules, NETWORK_AND_PLANNER) == []
    assert "dexter_sync.cli.plan" not in modules


def test_validate_of_a_manifest_without_templates_loads_no_template_engine_or_event_loop(small):
    """jinja2 comes with the first `{{ }}`, asyncio with `--online`; the kind modules are
    those of the sections the manifest uses."""
    from dexter_sync.kinds.registry import KIND_MODULES

    modules = modules_after("validate", str(small))
    assert loaded(modules, ("jinja2", "asyncio", "httpx", "starlette")) == []
    assert {KIND_MODULES[m] for m in modules if m in KIND_MODULES} == {"metric_alerts"}


def test_validate_loads_the_template_engine_for_a_templated_value(small):
    text = (small / "r.yaml").read_text().replace("name: Errors", "name: '{{ organization }}'")
    (small / "r.yaml").write_text(text)
    assert "jinja2" in modules_after("validate", str(small))


def test_validate_builds_only_the_entry_models_it_validates(small):
    """Entry models defer their schema build: a manifest of metric alerts never builds the
    issue-alert, release or Discover models."""
    code = ("from dexter_sync.cli.main import cli\n"
            f"cli.main(args=['validate', {str(small)!r}], standalone_mode=False)\n"
            "from dexter_sync.kinds.registry import all_kinds\n"
            "print(sorted(k.name for k in all_kinds()\n"
            "            if k.entry_model.__pydantic_complete__))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip().splitlines()[-1] == "['metric_alert']"


def test_the_cli_constants_match_the_sentry_package():
    # cli/common.py repeats two values so that it need not import the sentry package
    from dexter_sync.cli import common
    from dexter_sync.sentry import connect, ratelimit
    assert common.URL_ENV == connect.URL_ENV
    assert common.DEFAULT_MAX_WAIT == ratelimit.MAX_WAIT
