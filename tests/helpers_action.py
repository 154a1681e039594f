"""Runs action.yml's steps the way GitHub's runner does, for tests.

`run_action(inputs, env)` reads action.yml, applies the input defaults, evaluates each
step's `if:` and the `${{ }}` expressions in its `env:`, `run:` and `name:` (inputs, env,
steps.<id>.outputs, github.*, runner.*), runs every `run` step with GitHub's bash command
line (`bash --noprofile --norc -eo pipefail FILE`) and a fresh GITHUB_OUTPUT file, then
maps the action's `outputs:` from the steps' outputs. A `uses:` step whose `if:` holds
cannot run here and fails the test (with `install: 'false'` the Python setup and install
steps are skipped, as on a runner that already has dexter).

The expression evaluator covers the part of GitHub's language action.yml uses: literals,
context paths, `==`/`!=` (strings compared case-insensitively, as GitHub does), `!`, `&&`,
`||`, parentheses and the status functions. Anything else raises, so action.yml cannot
quietly grow an expression this runner would mis-evaluate.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|"
                   r"(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*))")
STATUS_FUNCTIONS = ("success()", "always()", "failure()", "cancelled()")


def load_action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text(encoding="utf-8"))


class ExpressionError(ValueError):
    pass


def tokens(text: str) -> list[tuple[str, str]]:
    found, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def context_paths(text: str) -> list[str]:
    """The context paths an expression reads (`inputs.path`, `steps.dexter.outputs.x`)."""
    return [value for kind, value in tokens(text) if kind == "name"
            and value not in ("true", "false", "null")]


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", 0)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


@dataclass
class Contexts:
    inputs: dict[str, str]
    env: dict[str, str]
    github: dict[str, Any]
    runner: dict[str, str]
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: bool = False

    def lookup(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        roots = {"inputs": self.inputs, "env": self.env, "github": self.github,
                 "runner": self.runner, "steps": self.steps}
        if head not in roots:
            raise ExpressionError(f"unknown context {head!r}")
        value: Any = roots[head]
        for part in rest.split(".") if rest else []:
            value = value.get(part) if isinstance(value, dict) else None
        return value


class _Parser:
    def __init__(self, text: str, contexts: Contexts) -> None:
        self.text, self.items, self.at, self.ctx = text, tokens(text), 0, contexts

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise ExpressionError(f"unexpected end of {self.text!r}")
        self.at += 1
        return item

    def parse(self) -> Any:
        value = self.either()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.text!r}")
        return value

    def either(self) -> Any:
        value = self.both()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.both()
            value = value if _truthy(value) else right
        return value

    def both(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if _truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        item = self.peek()
        if item in (("op", "=="), ("op", "!=")):
            self.take()
            same = _equal(value, self.unary())
            return same if item == ("op", "==") else not same
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value)
        if value == "(":
            inner = self.either()
            if self.take() != ("op", ")"):
                raise ExpressionError(f"missing ) in {self.text!r}")
            return inner
        if kind == "name" and self.peek() == ("op", "("):
            self.take()
            if self.take() != ("op", ")") or f"{value}()" not in STATUS_FUNCTIONS:
                raise ExpressionError(f"unsupported function {value} in {self.text!r}")
            return {"success": not self.ctx.failed, "always": True,
                    "failure": self.ctx.failed, "cancelled": False}[value]
        if kind == "name":
            literal = {"true": True, "false": False, "null": None}
            return literal[value] if value in literal else self.ctx.lookup(value)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def evaluate(text: str, contexts: Contexts) -> Any:
    return _Parser(text, contexts).parse()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def substitute(text: str, contexts: Contexts) -> str:
    return EXPRESSION.sub(lambda m: _as_text(evaluate(m.group(1), contexts)), str(text))


def condition(step: dict[str, Any], contexts: Contexts) -> bool:
    text = str(step.get("if", "success()")).strip()
    match = EXPRESSION.fullmatch(text)
    text = match.group(1) if match else text
    # GitHub adds an implicit success() unless the condition calls a status function
    implicit = not any(f.split("(")[0] in text for f in STATUS_FUNCTIONS)
    value = _truthy(evaluate(text, contexts))
    return value and not contexts.failed if implicit else value


def parse_output_file(path: Path) -> dict[str, str]:
    """GitHub's GITHUB_OUTPUT format: `name=value` lines and `name<<DELIM` heredocs."""
    lines = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
    outputs: dict[str, str] = {}
    at = 0
    while at < len(lines):
        line = lines[at]
        at += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[at] != delimiter:
                body.append(lines[at])
                at += 1
            at += 1
            outputs[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@dataclass
class StepRun:
    id: str | None
    name: str
    exit_code: int
    stdout: str
    stderr: str
    summary: str


@dataclass
class ActionRun:
    outputs: dict[str, str]
    steps: list[StepRun]
    skipped: list[str]

    @property
    def failed(self) -> bool:
        return any(s.exit_code != 0 for s in self.steps)

    @property
    def log(self) -> str:
        return "\n".join(s.stdout + s.stderr for s in self.steps)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)


def runner_env(*, workspace: Path, event_path: Path, event_name: str, api_url: str,
               extra: dict[str, str]) -> dict[str, str]:
    """What a GitHub-hosted runner puts in every step's environment (the parts dexter
    reads), with this test's Python first on PATH as setup-python would put it."""
    temp = workspace.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace.parent), "LANG": "C.UTF-8",
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": "acme/sentry-config", "GITHUB_SHA": "9" * 40,
        "GITHUB_API_URL": api_url, "GITHUB_SERVER_URL": api_url,
        "GITHUB_RUN_ID": "7001", "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(temp),
        # the test command's coverage follows the steps' processes (nothing dexter reads)
        **{k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")},
        **extra,
    }


def run_action(inputs: dict[str, str], env: dict[str, str], *, workspace: Path,
               timeout: float = 300) -> ActionRun:
    action = load_action()
    given = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(inputs) - set(given)
    assert not unknown, f"inputs not declared in action.yml: {unknown}"
    given.update(inputs)
    contexts = Contexts(inputs=given, env=dict(env),
                        github={"action_path": env["GITHUB_ACTION_PATH"],
                                "event_name": env["GITHUB_EVENT_NAME"],
                                "workspace": str(workspace)},
                        runner={"temp": env["RUNNER_TEMP"]})
    runs, skipped = [], []
    for number, step in enumerate(action["runs"]["steps"]):
        name = substitute(step.get("name") or step.get("id") or f"step {number}", contexts)
        if not condition(step, contexts):
            skipped.append(name)
            continue
        assert "run" in step, f"step {name!r} uses {step.get('uses')}: cannot run it here"
        files = Path(tempfile.mkdtemp(prefix=f"step-{number}-", dir=workspace.parent))
        output_file, summary_file = files / "output", files / "summary"
        output_file.touch()
        summary_file.touch()
        script = files / "script.sh"
        script.write_text(substitute(step["run"], contexts), encoding="utf-8")
        step_env = {k: substitute(v, contexts) for k, v in (step.get("env") or {}).items()}
        assert step["shell"] == "bash"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace, capture_output=True, text=True, timeout=timeout, check=False,
            env={**env, **step_env, "GITHUB_OUTPUT": str(output_file),
                 "GITHUB_STEP_SUMMARY": str(summary_file)})
        runs.append(StepRun(step.get("id"), name, done.returncode, done.stdout, done.stderr,
                            summary_file.read_text(encoding="utf-8")))
        if step.get("id"):
            contexts.steps[step["id"]] = {
                "outputs": parse_output_file(output_file),
                "outcome": "success" if done.returncode == 0 else "failure"}
        if done.returncode != 0:
            contexts.failed = True
    outputs = {name: substitute(spec["value"], contexts)
               for name, spec in action.get("outputs", {}).items()}
    return ActionRun(outputs, runs, skipped)


STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
GITHUB_FIELDS = ("action_path", "event_name", "workspace")


def _strings(node: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def _expressions(node: Any, where: str) -> Iterator[tuple[str, str]]:
    for at, text in _strings(node, where):
        if at.endswith(".if"):  # `if:` may leave out the ${{ }}
            bare = EXPRESSION.fullmatch(text.strip())
            yield at, bare.group(1) if bare else text
        else:
            yield from ((at, m.group(1)) for m in EXPRESSION.finditer(text))


def _reference_problems(at: str, text: str, inputs: set[str], step_ids: set[str]
                        ) -> list[str]:
    try:
        paths = context_paths(text)
        evaluate(text, Contexts(inputs={}, env={}, github={}, runner={}))  # the grammar
    except ExpressionError as error:
        return [f"{at}: {error}"]
    problems = []
    for path in paths:
        head, _, rest = path.partition(".")
        parts = rest.split(".")
        if head == "inputs" and rest not in inputs:
            problems.append(f"{at}: inputs.{rest} is not declared")
        elif head == "steps" and (len(parts) != 3 or parts[0] not in step_ids
                                  or parts[1] != "outputs"):
            problems.append(f"{at}: {path} names no earlier step's outputs")
        elif head == "github" and rest not in GITHUB_FIELDS:
            problems.append(f"{at}: github.{rest} is not a context this action reads")
        elif head not in ("inputs", "steps", "github", "env", "runner"):
            problems.append(f"{at}: unknown context {head!r}")
    return problems


def action_problems(action: Any) -> list[str]:
    """GitHub's metadata rules for a composite action, plus this project's: an input is
    never spliced into a script (it reaches the shell as an environment variable)."""
    if not isinstance(action, dict):
        return ["action.yml is not a mapping"]
    problems = [f"missing required key {key!r}" for key in ("name", "description", "runs")
                if not action.get(key)]
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append(f"runs.using is {runs.get('using')!r}, not 'composite'")
    inputs = action.get("inputs") or {}
    for name, spec in inputs.items():
        if not isinstance(spec, dict) or not spec.get("description"):
            problems.append(f"inputs.{name} has no description")
    steps = runs.get("steps")
    if not isinstance(steps, list) or not steps:
        return problems + ["runs.steps is missing or empty"]
    step_ids: set[str] = set()
    for index, step in enumerate(steps):
        at = f"runs.steps[{index}]"
        if ("run" in step) == ("uses" in step):
            problems.append(f"{at}: needs exactly one of run and uses")
        if "run" in step and not step.get("shell"):
            problems.append(f"{at}: a run step of a composite action needs shell")
        if "run" in step and re.search(r"\$\{\{\s*(inputs|github)\.", str(step["run"])):
            problems.append(f"{at}: run splices an expression into the script; pass it "
                            "through env")
        for variable, value in (step.get("env") or {}).items():
            mapped = re.fullmatch(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", str(value))
            if variable.startswith("INPUT_") and (
                    not mapped or variable != "INPUT_" + mapped.group(1).upper().replace("-", "_")):
                problems.append(f"{at}.env.{variable}: does not carry the input it names")
        problems += [p for where, text in _expressions(step, at)
                     for p in _reference_problems(where, text, set(inputs), step_ids)]
        step_id = step.get("id")
        if step_id is not None:
            if not STEP_ID.match(str(step_id)) or step_id in step_ids:
                problems.append(f"{at}: id {step_id!r} is invalid or repeated")
            step_ids.add(str(step_id))
    for name, spec in (action.get("outputs") or {}).items():
        if not isinstance(spec, dict) or not spec.get("description") or not spec.get("value"):
            problems.append(f"outputs.{name} needs a description and a value")
            continue
        if not re.search(r"steps\.[\w-]+\.outputs\.", str(spec["value"])):
            problems.append(f"outputs.{name}: value reads no step output")
        problems += [p for where, text in _expressions(spec["value"], f"outputs.{name}")
                     for p in _reference_problems(where, text, set(inputs), step_ids)]
    used = {path.split(".")[1] for _, text in _expressions(action, "")
            for path in re.findall(r"\binputs\.[\w-]+", text)}
    problems += [f"inputs.{name} is never used" for name in inputs if name not in used]
    return problems
