"""A newcomer's first hour, as the user sees it: the embedded emulator's first run, its
location and reset, paths that point at the wrong file, and small wording."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dexter_sync.apply.report import ApplyReport, ChangeOutcome, Status, format_seconds
from dexter_sync.apply.report import render_json as render_report_json
from dexter_sync.apply.report import render_text as render_report_text
from dexter_sync.cli.main import cli
from dexter_sync.core.changes import Action, ResourceChange
from dexter_sync.emulator.testing import EmulatorHandle, running_emulator
from tests.test_apply_support import write_manifests as write_apply_manifests

DEXTER = str(Path(sys.executable).with_name("dexter"))

TYPO_RULES = """
issue_alerts:
  - {name: API errors, project: api, conditions: [first_seen_event],
     actions: [{email: {target: issue_owners}}]}
  - {name: API regressions, project: api, conditions: [regression_event],
     actions: [{email: {target: issue_owners}}]}
  - {name: API typo, project: apii, conditions: [first_seen_event],
     actions: [{email: {target: issue_owners}}]}
"""


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with no SENTRY_URL: the embedded emulator."""
    monkeypatch.chdir(tmp_path)
    for name in ("SENTRY_URL", "SENTRY_AUTH_TOKEN", "SENTRY_ORG", "DEXTER_EMBEDDED_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def write_manifests(root: Path, body: str = TYPO_RULES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [rules.yaml]\n")
    (root / "rules.yaml").write_text(textwrap.dedent(body))
    return root


def dexter(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_first_run_lists_what_it_created_and_flags_a_likely_typo(embedded: Path) -> None:
    root = write_manifests(embedded / "m")
    first = dexter("plan", str(root))
    assert first.exit_code == 0, first.output
    lines = first.stderr.splitlines()
    assert lines[0] == ("using the local Sentry emulator at .dexter/local-sentry.sqlite "
                        "(SENTRY_URL is not set)")
    assert lines[1] == ("first use: created what the manifests name in the local emulator "
                        "(`dexter emulator --reset` starts over)")
    assert "  projects: api, apii" in lines
    assert "  warning: created project 'apii' (did you mean 'api'?)" in lines
    assert not any("created project 'api'" in line for line in lines)  # the common one is fine

    again = dexter("plan", str(root))
    assert again.stderr.splitlines() == [lines[0]]  # later runs: the location only


def test_the_state_location_can_be_set_and_reset(embedded: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = embedded / "elsewhere" / "sentry.sqlite"
    monkeypatch.setenv("DEXTER_EMBEDDED_DB", str(state))
    root = write_manifests(embedded / "m")
    first = dexter("plan", str(root))
    assert first.stderr.splitlines()[0] == (
        f"using the local Sentry emulator at {state.as_posix()} (SENTRY_URL is not set)")
    assert state.exists() and not (embedded / ".dexter").exists()

    reset = dexter("emulator", "--reset")
    assert reset.exit_code == 0, reset.output
    assert reset.stderr == f"dexter emulator: deleted {state}; the next run starts over\n"
    assert not state.exists()
    assert "first use: created" in dexter("plan", str(root)).stderr


def test_reset_refuses_a_file_that_is_not_an_emulator_database(embedded: Path) -> None:
    precious = embedded / "notes.sqlite"
    precious.write_text("my notes\n")
    result = dexter("emulator", "--reset", "--db", str(precious))
    assert result.exit_code == 1
    assert "is not an emulator database; not deleting it" in result.stderr
    assert precious.read_text() == "my notes\n"


def test_pointing_at_a_resource_file_says_where_to_point(embedded: Path) -> None:
    root = write_manifests(embedded / "m")
    result = dexter("validate", str(root / "rules.yaml"))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: 1 error in the manifests: [invalid-manifest]\n"
        "  m/rules.yaml is a resource file (issue_alerts), not dexter.yaml [resource-file]\n"
        "    hint: point at the directory that holds dexter.yaml (or pass the dexter.yaml "
        "itself): m\n")
    direct = dexter("validate", str(root / "dexter.yaml"))
    assert direct.exit_code == 0, direct.output
    assert direct.stdout.startswith("ok: 3 resources (3 issue_alert) in 2 files")


def test_export_reads_the_organization_from_dexter_yaml_and_says_what_it_left_out(
        embedded: Path) -> None:
    (embedded / "dexter.yaml").write_text("version: 1\norganization: globex\n")
    result = dexter("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Exported 0 objects (nothing) from globex to ")
    assert lines[1] == (
        "Left out by design: external issue links (Sentry lists them per issue, so exporting "
        "them would read every issue; declare the links you manage by hand).")
    assert "organization: globex" in (embedded / "exported" / "dexter.yaml").read_text()


def _plan_with_stderr_on_a_terminal(emu: EmulatorHandle, manifests: Path) -> tuple[str, str]:
    """`dexter plan` with stdout piped and stderr on a pseudo-terminal: (stdout, screen)."""
    main, child = pty.openpty()
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token, "SENTRY_URL": emu.url,
           "TERM": "xterm", "COLUMNS": "120"}
    proc = subprocess.Popen([DEXTER, "plan", str(manifests)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=child, env=env, close_fds=True)
    os.close(child)
    screen = b""
    try:
        while True:  # until the terminal reports end of file: every byte written was read
            ready, _, _ = select.select([main], [], [], 60)
            assert ready, "dexter plan wrote nothing for 60 s"
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        stdout = proc.communicate(timeout=60)[0]
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return stdout.decode(), screen.decode(errors="replace")


def test_reading_shows_progress_on_a_terminal_and_clears_it(emu: EmulatorHandle,
                                                          tmp_path: Path) -> None:
    manifests = write_apply_manifests(tmp_path / "m", queries=3)
    stdout, screen = _plan_with_stderr_on_a_terminal(emu, manifests)
    assert screen.startswith("\r\x1b[Kreading acme: 0 requests, 0 endpoints, 0.0s")
    assert screen.endswith("\r\x1b[K")  # the status is gone before the plan prints
    assert stdout.startswith("+ create discover_query/q-0000")
    assert "reading acme" not in stdout and "\x1b" not in stdout


def test_no_progress_when_not_on_a_terminal(emu: EmulatorHandle, tmp_path: Path) -> None:
    manifests = write_apply_manifests(tmp_path / "m", queries=3)
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token, "SENTRY_URL": emu.url}
    done = subprocess.run([DEXTER, "plan", str(manifests)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "\x1b" not in done.stdout


def test_apply_report_wording_and_its_json_keys() -> None:
    change = ResourceChange(Action.CREATE, "discover_query", "q", after={"name": "q"})
    report = ApplyReport("acme", [ChangeOutcome(change, Status.APPLIED),
                                  ChangeOutcome(change, Status.NOT_ATTEMPTED)], seconds=0.042)
    assert render_report_text(report).splitlines()[-1] == (
        "Apply incomplete: 1 applied, 0 failed, 1 not attempted (0.04s).")
    assert [format_seconds(s) for s in (0.042, 2.34, 65.2)] == ["0.04s", "2.3s", "1m05s"]
    document = json.loads(render_report_json(report))
    assert document["summary"] == {"applied": 1, "failed": 0, "not_attempted": 1}
    assert [c["status"] for c in document["changes"]] == ["applied", "not_attempted"]


def test_init_writes_a_valid_commented_tree_and_never_overwrites(embedded: Path) -> None:
    result = dexter("init", "sentry", "--org", "acme", "--project", "api")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Wrote sentry/dexter.yaml and sentry/alerts.yaml for acme. "
                             "Next: dexter validate sentry && dexter plan sentry\n")
    settings = (embedded / "sentry" / "dexter.yaml").read_text()
    assert settings.startswith("# yaml-language-server: $schema=schemas/dexter.schema.json\n")
    assert "# prune: {issue_alerts: [api]}" in settings
    assert (embedded / "sentry" / "schemas" / "resources.schema.json").is_file()
    validate = dexter("validate", "sentry")
    assert validate.stdout == "ok: 1 resource (1 issue_alert) in 2 files for organization acme\n"
    plan = dexter("plan", "sentry")
    assert plan.stdout.startswith("+ create issue_alert/api/New issues  (sentry/alerts.yaml:6:5)")

    (embedded / "sentry" / "alerts.yaml").write_text("issue_alerts: []\n")
    again = dexter("init", "sentry", "--org", "acme")
    assert again.exit_code == 1
    assert "sentry/dexter.yaml already exists: `dexter init` never overwrites" in again.stderr
    assert (embedded / "sentry" / "alerts.yaml").read_text() == "issue_alerts: []\n"


def test_init_from_the_live_organization(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with running_emulator(projects=["backend", "frontend"], teams=["backend-team"]) as live:
        monkeypatch.setenv("SENTRY_URL", live.url)
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", live.token)
        live.seed_rules(metric_rules=2, issue_rules=2, projects=2, saved_queries=1)
        result = dexter("init", "fromlive", "--org", "acme", "--export")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Wrote fromlive/ from acme: ")
        assert dexter("validate", "fromlive").exit_code == 0
        plan = dexter("plan", "fromlive", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output


def test_a_closed_port_is_explained_in_plain_words(tmp_path: Path) -> None:
    manifests = write_apply_manifests(tmp_path / "m", queries=1)
    env = {**os.environ, "SENTRY_URL": "http://127.0.0.1:9", "SENTRY_AUTH_TOKEN": "t"}
    done = subprocess.run([DEXTER, "plan", str(manifests)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: cannot connect to Sentry at http://127.0.0.1:9 (connection refused); "
        "check SENTRY_URL [connection-failed]"]


def test_an_undefined_template_name_reads_without_internal_class_names(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "dexter.yaml").write_text("version: 1\norganization: acme\nvars: {a: 1}\n"
                                      "include: [r.yaml]\n")
    (root / "r.yaml").write_text(
        'discover_queries:\n  - {name: "{{ env.DEXTER_NOT_SET_ANYWHERE }}", fields: [count()]}\n'
        '  - {name: "{{ vars.nope }}", fields: [count()]}\n')
    result = CliRunner().invoke(cli, ["validate", str(root)])
    assert result.exit_code == 1
    assert "template error: env.DEXTER_NOT_SET_ANYWHERE is not defined [template-undefined]" \
        in result.stderr
    assert "template error: 'nope' is not defined in the mapping [template-undefined]" \
        in result.stderr
    assert "TemplateEnv" not in result.stderr and "dexter_sync" not in result.stderr
