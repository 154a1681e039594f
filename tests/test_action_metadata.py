"""action.yml, the example workflows and .pre-commit-hooks.yaml are valid.

- the GitHub Actions metadata and workflow JSON Schemas (SchemaStore's, as vendored by
  check-jsonschema) accept them, and reject a broken copy;
- action.yml meets the metadata rules the schema cannot express (every `inputs.X` it reads
  is declared, every output reads an existing step, each run step has a shell, no input
  spliced into a script), checked by helpers_action.action_problems;
- the examples use only the action's declared inputs and outputs;
- pre-commit accepts the hooks manifest, and the hook's entry runs for real.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers_action import ACTION, ROOT, action_problems, load_action

BIN = Path(sys.executable).parent
EXAMPLES = {"github-workflow": ROOT / "examples" / "github-workflow.yml",
            "drift-check": ROOT / "examples" / "drift-check.yml"}
HOOKS = ROOT / ".pre-commit-hooks.yaml"
OUR_ACTION = "dexter-sync/dexter@v1"


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", schema,
                           *map(str, files)], capture_output=True, text=True, timeout=120,
                          check=False)


def workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load(EXAMPLES[name].read_text(encoding="utf-8"))
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def test_action_yml_passes_the_action_metadata_schema(tmp_path: Path) -> None:
    done = check_schema("vendor.github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = load_action()
    del broken["runs"]["steps"][-1]["shell"]
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert check_schema("vendor.github-actions", tmp_path / "action.yml").returncode == 1


def test_action_yml_meets_the_metadata_rules() -> None:
    action = load_action()
    assert action_problems(action) == []
    assert set(action["inputs"]) >= {"command", "path", "organization", "sentry-url",
                                     "plan-file", "comment", "python-version",
                                     "dexter-version"}
    assert set(action["outputs"]) >= {"has-changes", "plan-file", "summary", "to-create",
                                      "to-update", "to-delete"}
    assert not [name for name in action["inputs"] if "token" in name.lower()]


@pytest.mark.parametrize(("break_it", "problem"), [
    (lambda a: a.pop("description"), "missing required key 'description'"),
    (lambda a: a["runs"].update(using="node20"), "runs.using is 'node20'"),
    (lambda a: a["runs"]["steps"][-1]["env"].update(INPUT_PATH="${{ inputs.paht }}"),
     "inputs.paht is not declared"),
    (lambda a: a["outputs"]["summary"].update(value="${{ steps.plan.outputs.summary }}"),
     "steps.plan.outputs.summary names no earlier step's outputs"),
    (lambda a: a["runs"]["steps"][-1].pop("shell"), "needs shell"),
    (lambda a: a["runs"]["steps"][-1].update(run="dexter action ${{ inputs.path }}"),
     "splices an expression into the script"),
    (lambda a: a["runs"]["steps"][-1]["env"].update(INPUT_PATH="${{ inputs.comment }}"),
     "env.INPUT_PATH: does not carry the input it names"),
    (lambda a: a["inputs"].update(unused={"description": "x"}), "inputs.unused is never used"),
    (lambda a: a["runs"]["steps"][1].update({"if": "inputs.install = 'true'"}), "cannot read"),
])
def test_the_rules_catch_each_broken_copy(break_it: Any, problem: str) -> None:
    broken = copy.deepcopy(load_action())
    break_it(broken)
    assert [p for p in action_problems(broken) if problem in p]


def test_every_input_the_step_reads_is_mapped_from_action_yml() -> None:
    source = (ROOT / "dexter_sync" / "action" / "runner.py").read_text(encoding="utf-8")
    read = set(re.findall(r'_input\(env, "([\w-]+)"\)', source))
    [step] = [s for s in load_action()["runs"]["steps"] if s.get("id") == "dexter"]
    mapped = {k.removeprefix("INPUT_").lower().replace("_", "-") for k in step["env"]}
    assert read == mapped
    assert len(read) == 6


def test_example_workflows_pass_the_workflow_schema() -> None:
    done = check_schema("vendor.github-workflows", *EXAMPLES.values())
    assert done.returncode == 0, done.stdout + done.stderr


def _our_steps(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in flow["jobs"].values() for s in job["steps"]
            if s.get("uses") == OUR_ACTION]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_use_only_declared_inputs_and_outputs_and_secrets_from_env(name: str
                                                                            ) -> None:
    action = load_action()
    flow = workflow(name)
    steps = _our_steps(flow)
    assert steps
    for step in steps:
        assert set(step["with"]) <= set(action["inputs"])
        assert step["env"]["SENTRY_AUTH_TOKEN"] == "${{ secrets.SENTRY_AUTH_TOKEN }}"
        assert "secrets." not in yaml.safe_dump(step["with"])
    text = EXAMPLES[name].read_text(encoding="utf-8")
    read = set(re.findall(r"steps\.dexter\.outputs\.([\w-]+)", text))
    assert read and read <= set(action["outputs"])


def test_the_workflow_plans_pull_requests_and_applies_merges_one_at_a_time() -> None:
    flow = workflow("github-workflow")
    assert set(flow["on"]) == {"pull_request", "push"}
    plan, apply = flow["jobs"]["plan"], flow["jobs"]["apply"]
    assert plan["permissions"]["pull-requests"] == "write"
    assert "GITHUB_TOKEN" in _our_steps({"jobs": {"plan": plan}})[0]["env"]
    [applying] = _our_steps({"jobs": {"apply": apply}})
    assert applying["with"]["command"] == "apply" and "plan-file" in applying["with"]
    # one fixed group for every apply, never cancelled: two applies never run at once
    assert apply["concurrency"] == {"group": "dexter-apply-sentry",
                                    "cancel-in-progress": False}
    assert "${{" not in apply["concurrency"]["group"]
    uploads = [s for s in plan["steps"] if str(s.get("uses", "")).startswith(
        "actions/upload-artifact")]
    assert uploads[0]["with"]["path"] == "${{ steps.dexter.outputs.plan-file }}"


def test_the_drift_check_runs_on_a_schedule_and_fails_on_drift() -> None:
    flow = workflow("drift-check")
    assert "schedule" in flow["on"]
    [job] = flow["jobs"].values()
    failing = [s for s in job["steps"] if "exit 1" in str(s.get("run", ""))]
    assert failing[0]["if"] == "steps.dexter.outputs.has-changes == 'true'"
    assert flow["permissions"]["issues"] == "write"


def test_pre_commit_accepts_the_hooks_manifest(tmp_path: Path) -> None:
    done = subprocess.run([str(BIN / "pre-commit"), "validate-manifest", str(HOOKS)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (tmp_path / "hooks.yaml").write_text("- id: x\n  name: x\n", encoding="utf-8")
    bad = subprocess.run([str(BIN / "pre-commit"), "validate-manifest",
                          str(tmp_path / "hooks.yaml")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1


def test_the_validate_hook_runs_and_reports_file_and_line(tmp_path: Path) -> None:
    [hook] = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert hook["id"] == "dexter-validate" and hook["pass_filenames"] is False
    command = [str(BIN / hook["entry"].split()[0]), *hook["entry"].split()[1:]]
    good = subprocess.run([*command, str(ROOT / "examples" / "acme")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "acme")
    queries = tmp_path / "acme" / "queries" / "discover.yaml"
    queries.write_text(queries.read_text(encoding="utf-8").replace("range: 24h",
                                                                   "range: forever", 1),
                       encoding="utf-8")
    bad = subprocess.run([*command, str(tmp_path / "acme")], capture_output=True, text=True,
                         timeout=120, check=False)
    assert bad.returncode == 1
    assert re.search(r"discover\.yaml:\d+", bad.stdout + bad.stderr)
    assert re.search(hook["files"], "README.md") is None
    assert re.search(hook["files"], "sentry/alerts/per-project.yaml.j2")
