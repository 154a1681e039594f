"""The Action's two steps.

plan   `dexter plan --out FILE --detailed-exitcode`; changes present (exit 2) is success.
       The markdown plan goes to the job summary and, on a pull request, into the one
       comment dexter keeps there; the saved plan is the `plan-file` output (upload it as
       an artifact to apply exactly it after the merge).
apply  with `plan-file`: `dexter apply FILE`, exactly the reviewed plan, refused when stale;
       without: `dexter apply PATH --auto-approve` (plan and apply in one).

Every failure is a failed step with an `::error` annotation and a job-summary section that
say what to do; nothing a step writes holds a token.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.changes import Plan
from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError
from ..render.markdown import render_markdown
from ..render.planfile import read_plan
from .body import comment_body, marker, plan_checksum, plan_outputs, summary_line
from .comments import PullRequestComments
from .masking import redact, register_secrets
from .runner import (
    DEFAULT_API_URL,
    DEFAULT_PLAN_FILE,
    ActionError,
    ActionInputs,
    PullRequest,
    append_summary,
    error_annotation,
    pull_request_of,
    run_url,
    write_outputs,
)
from .running import Finished, run_dexter

TOKEN_HINT = "add `SENTRY_AUTH_TOKEN: ${{ secrets.SENTRY_AUTH_TOKEN }}` to the step's env"
STALE_ADVICE = ("Sentry changed since the plan was reviewed, so nothing was applied. Run "
                "the pull request's plan again (re-run its workflow or push a commit), "
                "review the new plan, then re-run this job with it.")
REPORT_ROWS = 100


class StepFailed(DexterError):
    """A step's failure that was already explained (log, annotation, summary)."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"step failed with exit code {exit_code}")
        self.exit_code = exit_code


def _sentry_args(inputs: ActionInputs) -> list[str]:
    args = ["--sentry-url", inputs.sentry_url]
    return args + (["--org", inputs.organization] if inputs.organization else [])


def _fail(env: Mapping[str, str], title: str, message: str, *, exit_code: int = 1) -> StepFailed:
    message = redact(message)
    print(error_annotation(title, message), flush=True)
    append_summary(env, f"### {html.escape(title)}\n\n```\n{message.replace('```', '` ``')}"
                        f"\n```")
    return StepFailed(exit_code)


def _comment(env: Mapping[str, str], inputs: ActionInputs, pull: PullRequest, mark: str,
             body: str, *, create: bool) -> dict[str, str]:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        raise ActionError("comment: GITHUB_TOKEN is not set; add `GITHUB_TOKEN: "
                          "${{ secrets.GITHUB_TOKEN }}` to the step's env (and `permissions: "
                          "pull-requests: write`), or set `comment: off`")
    api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
    with PullRequestComments(api_url=api_url, token=token, repository=pull.repository,
                             number=pull.number) as comments:
        result = comments.upsert(mark, body, create=create)
    if result is None:
        print("No earlier comment to update and nothing to post (comment: changes-only).")
        return {}
    print(f"Plan comment {result.action}: {result.url or result.id}")
    return {"comment-id": str(result.id), "comment-url": result.url or ""}


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def _planned(env: Mapping[str, str], inputs: ActionInputs, target: Path) -> Plan:
    """`dexter plan --out target`. dexter writes the file atomically and only after a
    successful plan, so a failed run leaves an earlier file alone; the file must be a new
    one, never an earlier run's mistaken for this run's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    before = _identity(target)
    done = run_dexter(["plan", inputs.path, "--out", str(target), "--detailed-exitcode",
                       "--format", "text", *_sentry_args(inputs)], env)
    if done.exit_code not in (0, 2):
        raise _fail(env, "dexter plan failed", done.error_text)
    if _identity(target) in (None, before):
        raise _fail(env, "dexter plan failed",
                    f"dexter plan exited {done.exit_code} without writing {target}")
    plan = read_plan(target)
    if plan.has_changes != (done.exit_code == 2):
        raise _fail(env, "dexter plan failed",
                    f"dexter plan exited {done.exit_code} but the saved plan "
                    f"{'has' if plan.has_changes else 'has no'} changes")
    return plan


def plan_step(env: Mapping[str, str], inputs: ActionInputs) -> None:
    target = Path(inputs.plan_file or DEFAULT_PLAN_FILE)
    pull = pull_request_of(env)
    mark = marker(inputs.path, inputs.organization)
    try:
        plan = _planned(env, inputs, target)
    except StepFailed:
        if pull is not None and inputs.comment != "off":  # never leave an old plan standing
            failed = (f"{mark}\n### dexter plan failed\n\nThe plan could not be made; "
                      f"see the [workflow run]({run_url(env) or '#'}).\n")
            _comment(env, inputs, pull, mark, failed, create=False)
        raise
    outputs = plan_outputs(plan, str(target))
    body = comment_body(plan, mark=mark, commit=pull.head_sha if pull else env.get("GITHUB_SHA"),
                        run_link=run_url(env),
                        checksum=plan_checksum(target.read_text(encoding="utf-8")))
    append_summary(env, redact(body))
    if pull is None:
        print("Not a pull-request event: the plan is in the job summary, no comment.")
    elif inputs.comment == "off":
        print("comment: off: not commenting.")
    else:
        outputs.update(_comment(env, inputs, pull, mark, redact(body),
                                create=plan.has_changes or inputs.comment == "always"))
    print(f"Plan: {outputs['summary']}; saved to {target}", flush=True)
    write_outputs(env, {k: redact(v) for k, v in outputs.items()})


def _report(done: Finished) -> dict[str, Any]:
    try:
        report = json.loads(done.stdout)
    except ValueError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("changes"), list):
        raise ActionError(f"dexter apply exited {done.exit_code} without its JSON report",
                          code=ErrorCode.ACTION_REPORT)
    return report


def _report_markdown(report: dict[str, Any], exit_code: int) -> str:
    status = report.get("summary", {})
    outcome = "complete" if exit_code == 0 else "incomplete"
    lines = [f"### dexter apply to `{report.get('organization')}`: {outcome}", "",
             (f"{status.get('applied', 0)} applied, {status.get('failed', 0)} failed, "
              f"{status.get('not_attempted', 0)} not attempted."), ""]
    changes = sorted(report["changes"], key=lambda c: c.get("status") == "applied")
    if changes:
        lines += ["| status | action | kind | key | detail |", "| --- | --- | --- | --- | --- |"]
        for change in changes[:REPORT_ROWS]:
            cells = [change.get(k) or "" for k in ("status", "action", "kind", "key", "detail")]
            lines.append("| " + " | ".join(html.escape(str(c)).replace("|", "\\|")
                                            .replace("\n", " ") for c in cells) + " |")
        if len(changes) > REPORT_ROWS:
            lines.append(f"\n... and {len(changes) - REPORT_ROWS} more (see the log)")
    return "\n".join(lines)


def apply_step(env: Mapping[str, str], inputs: ActionInputs) -> None:
    if inputs.plan_file:
        if not Path(inputs.plan_file).is_file():
            raise _fail(env, "dexter apply: no reviewed plan",
                        f"the plan file {inputs.plan_file} does not exist: download the pull "
                        "request's plan artifact before this step, or leave plan-file empty "
                        f"to plan and apply in one go [{ErrorCode.MISSING_PLAN_FILE}]")
        reviewed = read_plan(inputs.plan_file, organization=inputs.organization)
        checksum = plan_checksum(Path(inputs.plan_file).read_text(encoding="utf-8"))
        append_summary(env, redact(f"<details><summary>The reviewed plan this job applies "
                                   f"(saved plan <code>{checksum}</code>)</summary>\n\n"
                                   + render_markdown(reviewed) + "\n</details>"))
        args = ["apply", inputs.plan_file]
    else:
        args = ["apply", inputs.path, "--auto-approve"]
    done = run_dexter([*args, "--format", "json", *_sentry_args(inputs)], env,
                      echo_stdout=False)
    if done.exit_code not in (0, 3):
        if done.error_code == "stale-plan":
            raise _fail(env, "dexter apply: the reviewed plan is stale",
                        f"{STALE_ADVICE}\n\n{done.error_text}")
        raise _fail(env, "dexter apply failed", done.error_text)
    report = _report(done)
    actions = [c.get("action") for c in report["changes"]]
    numbers = {a: actions.count(a) for a in ("create", "update", "delete")}
    append_summary(env, redact(_report_markdown(report, done.exit_code)))
    write_outputs(env, {"has-changes": "true" if actions else "false",
                        "plan-file": inputs.plan_file or "", "summary": summary_line(numbers),
                        "to-create": str(numbers["create"]), "to-update": str(numbers["update"]),
                        "to-delete": str(numbers["delete"])})
    if done.exit_code == 3:
        status = report.get("summary", {})
        raise _fail(env, "dexter apply incomplete",
                    f"failed: {status.get('failed', 0)}, not attempted: "
                    f"{status.get('not_attempted', 0)}; the job summary lists them. Running "
                    "the job again completes the rest.", exit_code=3)
    print(f"Applied: {summary_line(numbers)}", flush=True)


def run_step(env: Mapping[str, str]) -> int:
    """The step `dexter action` runs; its exit code is the step's."""
    register_secrets(env)
    try:
        inputs = ActionInputs.from_env(env)
        if not env.get("SENTRY_AUTH_TOKEN"):
            raise ActionError(f"SENTRY_AUTH_TOKEN is not set: {TOKEN_HINT}")
        (plan_step if inputs.command == "plan" else apply_step)(env, inputs)
    except StepFailed as failed:
        return failed.exit_code
    except DexterError as error:
        message = redact(f"{error} [{error.code}]")
        print(error_annotation("dexter action", message), flush=True)
        if env.get("GITHUB_STEP_SUMMARY"):
            append_summary(env, f"### dexter action failed\n\n```\n{message}\n```")
        return 1
    return 0
