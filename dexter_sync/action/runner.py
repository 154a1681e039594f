"""GitHub's runner interface, as a composite action's `run` step sees it.

- Inputs arrive as environment variables: action.yml maps each `inputs.<name>` to
  `INPUT_<NAME>` (dashes as underscores) in the step's `env:`, never into the script text,
  so an input can never be executed as shell.
- Step outputs are appended to the file named by `GITHUB_OUTPUT`, the job summary to
  `GITHUB_STEP_SUMMARY`, both in GitHub's `name<<DELIMITER` form with a random delimiter
  (what GitHub's own toolkit does), so a value can hold any text without ending early.
- The triggering event is the JSON file at `GITHUB_EVENT_PATH`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError

COMMANDS = ("plan", "apply")
COMMENT_MODES = ("changes-only", "always", "off")
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
DEFAULT_PLAN_FILE = "dexter-plan.json"
DEFAULT_SENTRY_URL = "https://sentry.io"
DEFAULT_API_URL = "https://api.github.com"


class ActionError(DexterError):
    """A misconfigured workflow or runner; the message says what to change."""

    code = ErrorCode.ACTION_INPUT


def _input(env: Mapping[str, str], name: str) -> str:
    return env.get(f"INPUT_{name.upper().replace('-', '_')}", "").strip()


@dataclass(frozen=True)
class ActionInputs:
    command: str
    path: str
    organization: str | None
    sentry_url: str
    plan_file: str | None
    """The `plan-file` input as given (None when empty)."""
    comment: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ActionInputs:
        command = _input(env, "command") or "plan"
        if command not in COMMANDS:
            raise ActionError(f"input command: {command!r} is not one of "
                              f"{', '.join(COMMANDS)}")
        comment = _input(env, "comment") or "changes-only"
        if comment not in COMMENT_MODES:
            raise ActionError(f"input comment: {comment!r} is not one of "
                              f"{', '.join(COMMENT_MODES)}")
        # input, else the job's SENTRY_URL, else sentry.io: never the embedded emulator,
        # which in CI would plan against an empty local organization and look like success
        sentry_url = _input(env, "sentry-url") or env.get("SENTRY_URL", "").strip() \
            or DEFAULT_SENTRY_URL
        return cls(command=command, path=_input(env, "path") or ".",
                   organization=_input(env, "organization") or None, sentry_url=sentry_url,
                   plan_file=_input(env, "plan-file") or None, comment=comment)


def _runner_file(env: Mapping[str, str], variable: str) -> Path:
    value = env.get(variable)
    if not value:
        raise ActionError(f"{variable} is not set: `dexter action` runs as a step of the "
                          "GitHub Action (action.yml), where the runner sets it",
                          code=ErrorCode.ACTION_ENVIRONMENT)
    return Path(value)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def write_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Set step outputs (`steps.<id>.outputs.<name>`)."""
    target = _runner_file(env, "GITHUB_OUTPUT")
    lines = []
    for name, value in outputs.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    _append(target, "".join(lines))


def append_summary(env: Mapping[str, str], markdown: str) -> None:
    """Add markdown to the job summary page."""
    _append(_runner_file(env, "GITHUB_STEP_SUMMARY"), markdown.rstrip("\n") + "\n\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_annotation(title: str, message: str) -> str:
    """A `::error` workflow command: shown on the run's page, not only in the log."""
    return f"::error title={_escape_property(title)}::{_escape_data(message)}"


@dataclass(frozen=True)
class PullRequest:
    repository: str
    """owner/name"""
    number: int
    head_sha: str | None


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = _runner_file(env, "GITHUB_EVENT_PATH")
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ActionError(f"{path}: cannot read the event payload ({error})",
                          code=ErrorCode.ACTION_ENVIRONMENT) from None
    if not isinstance(event, dict):
        raise ActionError(f"{path}: the event payload is not a JSON object",
                          code=ErrorCode.ACTION_ENVIRONMENT)
    return event


def pull_request_of(env: Mapping[str, str]) -> PullRequest | None:
    """The pull request this run is for; None for any other event (push, schedule, ...)."""
    if env.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    event = _event(env)
    pull = event.get("pull_request")
    repository = (event.get("repository") or {}).get("full_name") or env.get("GITHUB_REPOSITORY")
    if not isinstance(pull, dict) or not isinstance(pull.get("number"), int) \
            or not isinstance(repository, str) or "/" not in repository:
        raise ActionError("the pull_request event payload has no pull_request.number or "
                          "repository.full_name",
                          code=ErrorCode.ACTION_ENVIRONMENT)
    head = pull.get("head")
    sha = head.get("sha") if isinstance(head, dict) else None
    return PullRequest(repository, pull["number"], sha if isinstance(sha, str) else None)


def run_url(env: Mapping[str, str]) -> str | None:
    """The link to this workflow run, as GitHub's own UI builds it."""
    server, repository, run_id = (env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY"),
                                  env.get("GITHUB_RUN_ID"))
    if server and repository and run_id:
        return f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"
    return None
