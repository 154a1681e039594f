"""Exit codes, global options after the verb, and the `[code]` on every error.

A usage error exits 1: exit 2 means "changes present" to `plan --detailed-exitcode`, so a
CI job would read a typo as pending changes. Codes come from one enum (core/codes.py).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.core.codes import ErrorCode
from dexter_sync.emulator.testing import running_emulator
from tests.test_plan_cli import manifests

PACKAGE = Path(__file__).resolve().parents[1] / "dexter_sync"
DEXTER = Path(sys.executable).with_name("dexter")


def dexter(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


@pytest.mark.parametrize("args", [
    ("plan", "--bogus"),                       # unknown option
    ("plan", "--format", "xml"),               # bad value
    ("plan", "--concurrency", "0"),            # out of range
    ("nope",),                                 # unknown command
    ("inspect", "issue"),                      # missing argument
    ("apply", "--target"),                     # option without its value
])
def test_usage_errors_exit_1_with_the_usage_code(args):
    result = dexter(*args)
    assert result.exit_code == 1
    assert result.stderr.rstrip().splitlines()[-1].endswith("[usage]")
    assert "Traceback" not in result.output


def test_the_installed_entry_point_exits_1_on_a_typo():
    # the console script, not click's test runner: what a CI job runs
    done = subprocess.run([str(DEXTER), "plan", "--detailed-exitcod"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "[usage]" in done.stderr and "--detailed-exitcode" in done.stderr


def test_help_and_version_exit_0():
    assert dexter("--help").exit_code == 0
    assert dexter("plan", "--help").exit_code == 0
    assert dexter("--version").exit_code == 0


def test_an_error_is_printed_with_its_code(tmp_path, monkeypatch):
    monkeypatch.delenv("SENTRY_ORG", raising=False)
    (tmp_path / "dexter.yaml").write_text("version: 1\ninclude: []\n")
    result = dexter("export", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no organization")
    assert result.stderr.splitlines()[0].endswith("[missing-organization]")


def test_a_manifest_error_names_the_summary_code_and_each_diagnostic_code(tmp_path):
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\nbogus: 1\n")
    result = dexter("validate", str(tmp_path))
    assert result.exit_code == 1
    first, *rest = result.stderr.splitlines()
    assert first == "error: 1 error in the manifests: [invalid-manifest]"
    assert rest[0].rstrip().endswith("[unknown-field]")


@pytest.fixture
def target(monkeypatch):
    with running_emulator(projects=["backend"], teams=["backend-team"]) as emu:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", emu.token)
        monkeypatch.delenv("SENTRY_URL", raising=False)
        monkeypatch.delenv("SENTRY_ORG", raising=False)
        monkeypatch.setenv("NO_COLOR", "1")
        yield emu


def test_global_options_are_accepted_after_the_verb(target, tmp_path):
    root = manifests(tmp_path)
    after = dexter("plan", str(root), "-v", "--sentry-url", target.url, "--org", "acme")
    assert after.exit_code == 0, after.stderr
    assert "sentry requests:" in after.stderr          # -v after the verb took effect
    before = dexter("-v", "--sentry-url", target.url, "--org", "acme", "plan", str(root))
    assert before.exit_code == 0, before.stderr
    assert "sentry requests:" in before.stderr
    quiet = dexter("--sentry-url", target.url, "plan", str(root))
    assert quiet.exit_code == 0 and "sentry requests:" not in quiet.stderr


def test_the_org_after_the_verb_wins_over_the_one_before(target, tmp_path):
    root = manifests(tmp_path)
    result = dexter("--org", "acme", "plan", str(root), "--sentry-url", target.url,
                    "--org", "other")
    assert result.exit_code == 1
    assert "other" in result.stderr and result.stderr.splitlines()[-1].endswith("]")


def _codes_in_source() -> dict[str, str]:
    """Every literal error code the package uses: `code="..."`, `code = "..."` in a class,
    and the first argument of `Diagnostic(...)` and its local helpers."""
    found: dict[str, str] = {}
    helpers = {"Diagnostic", "_diagnostic", "_problem"}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "emulator" in path.parts:
            continue  # the emulator answers in Sentry's words, not dexter's codes
        where = str(path.relative_to(PACKAGE))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                values += [k.value for k in node.keywords if k.arg == "code"]
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in helpers and node.args:
                    values.append(node.args[0])
            elif isinstance(node, ast.Assign) and any(
                    getattr(t, "id", "") == "code" for t in node.targets):
                values.append(node.value)
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value] = f"{where}:{value.lineno}"
    return found


def test_every_code_the_source_uses_is_in_the_enum():
    known = {code.value for code in ErrorCode}
    used = _codes_in_source()
    assert len(used) > 30  # the scan finds the codes (it would pass vacuously otherwise)
    unknown = {code: where for code, where in used.items() if code not in known}
    assert unknown == {}


def test_near_duplicate_reference_codes_are_merged():
    used = _codes_in_source()
    assert "unknown-reference" in used
    assert not {"missing-reference", "unresolved-reference"} & (set(used) | set(ErrorCode))


def test_readme_names_only_codes_of_the_enum():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("Every error is printed as")
    sentence = readme[start: readme.index("\n-", start)]
    named = set(re.findall(r"`([a-z][a-z-]+)`", sentence)) - {"dexter_sync"}
    assert named and named <= {code.value for code in ErrorCode}


def test_a_partial_export_lists_what_it_left_out_and_exits_3(target, tmp_path):
    client = target.client()
    team = next(t["id"] for t in client.get("organizations/acme/teams/").json())
    rule = {"name": "Twice", "aggregate": "count()", "query": "", "timeWindow": 5,
            "projects": ["backend"], "thresholdType": 0,
            "triggers": [{"label": "critical", "alertThreshold": 10, "actions": [
                {"type": "email", "targetType": "team", "targetIdentifier": team}]}]}
    ids = [client.post("organizations/acme/alert-rules/", json=rule).json()["id"]
           for _ in range(2)]
    out = tmp_path / "exported"
    result = dexter("export", "--org", "acme", "--sentry-url", target.url, "--out", str(out))
    assert result.exit_code == 3
    assert f"skipped metric_alert/Twice: ambiguous (live ids {', '.join(sorted(ids))})" \
        in result.stderr
    last = result.stderr.rstrip().splitlines()[-1]
    assert last == ("error: the export is partial: 1 live object left out (listed above) "
                    "[export-partial]")
    assert (out / "dexter.yaml").is_file()  # what could be exported is written
