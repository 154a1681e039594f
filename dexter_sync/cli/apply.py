"""`dexter apply [PATH | PLANFILE]`: plan (or read a saved plan), confirm, apply, report.

Without a plan file it plans exactly as `dexter plan` does (`plan_live`), shows the plan and
asks for confirmation on a terminal; `--auto-approve` is for CI, and with neither a terminal
nor the flag it refuses at once rather than wait for an answer that cannot come. With a
saved plan it re-reads what the plan read, refuses a stale plan (`stale-plan`) naming what
changed, and applies exactly that plan. Safety findings stop it before any write unless
`--force` (`unsafe-plan`).

Exit codes: 0 all applied (or nothing to do), 1 error before any write, 3 some changes
failed or were not attempted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..apply.executor import execute_plan
from ..apply.progress import progress_for
from ..apply.report import ApplyReport, render_json, render_text
from ..apply.tasks import TASK_WAIT, TASK_WAIT_ENV, TaskLimits
from ..core.changes import Plan
from ..core.diagnostics import DexterError
from ..core.planning import Target, parse_targets
from ..kinds.registry import catalog, get_kind
from ..render.planfile import read_plan, stale_objects
from ..render.text import use_colour
from .common import connect, run, sentry_options
from .plan import load_desired, plan_live, render
from .progress import reading_progress


def is_plan_file(path: str) -> bool:
    """A saved plan is a JSON file; anything else is a manifest directory (or dexter.yaml)."""
    p = Path(path)
    return p.is_file() and p.suffix.lower() == ".json"


def refuse_without_confirmation(auto_approve: bool, interactive: bool) -> None:
    if not auto_approve and not interactive:
        raise DexterError(
            "refusing to apply: there is no terminal to confirm on; review the plan with "
            "`dexter plan` and pass --auto-approve (or apply a saved plan file)",
            code="confirmation-required")


def refuse_unsafe(plan: Plan, force: bool) -> None:
    if plan.safety and not force:
        lines = "\n".join(f"  {f.kind}{'/' + f.key if f.key else ''}: {f.message} [{f.code}]"
                          for f in plan.safety)
        raise DexterError(f"the plan breaches safety limits; nothing was applied "
                          f"(--force applies it anyway) [unsafe-plan]:\n{lines}",
                          code="unsafe-plan")


def refuse_stale(path: str, stale: list[str]) -> None:
    if stale:
        shown = "\n".join(f"  {line}" for line in stale[:50])
        more = f"\n  ... and {len(stale) - 50} more" if len(stale) > 50 else ""
        raise DexterError(f"{path}: the saved plan is stale, Sentry changed since it was "
                          f"made; nothing was applied. Make a new plan [stale-plan]:\n"
                          f"{shown}{more}",
                          code="stale-plan")


def _targeted(change: Any, targets: list[Target]) -> bool:
    for t_kind, t_key in targets:
        if change.kind == t_kind and (t_key is None or change.key == t_key):
            return True
        if t_key is not None and get_kind(change.kind).child_of == t_kind \
                and change.parent_key == t_key:
            return True
    return False


def select_targets(plan: Plan, targets: list[Target]) -> Plan:
    """A saved plan cut down to `--target`s (a fresh plan is cut by the planner itself)."""
    if targets:
        plan.changes = [c for c in plan.changes if _targeted(c, targets)]
    return plan


async def _apply(*, path: str, plan_file: bool, org: str | None, sentry_url: str | None,
                 concurrency: int, targets: list[Target], auto_approve: bool, force: bool,
                 fmt: str, task_wait: float = TASK_WAIT) -> ApplyReport:
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    shown = sys.stderr if fmt == "json" else sys.stdout  # stdout stays pure JSON
    if plan_file:
        saved = select_targets(read_plan(path, organization=org), targets)
        manifests = saved.manifest_path
        desired = (load_desired(manifests, saved.organization)
                   if manifests and Path(manifests).exists() else None)
        organization = saved.organization
    else:
        refuse_without_confirmation(auto_approve, interactive)
        desired = load_desired(path, org)
        organization = desired.settings.organization
    async with connect(sentry_url=sentry_url, organization=organization, desired=desired,
                       concurrency=concurrency) as facade:
        if plan_file:
            plan = saved
            async with reading_progress(facade, organization):
                live = await facade.read_state(plan.kinds_read, projects=plan.projects_read,
                                               desired=desired)
            refuse_stale(path, stale_objects(plan, live, catalog()))
            count = sum(1 for c in plan.changes if str(c.action) != "no-op")
            click.echo(f"applying the saved plan {path}: {count} change"
                       f"{'s' if count != 1 else ''} to {organization}", err=True)
        else:
            assert desired is not None
            async with reading_progress(facade, organization):
                plan = await plan_live(facade, desired, targets=targets)
            click.echo(render(plan, "text", colour=use_colour(shown)), file=shown, nl=False)
        refuse_unsafe(plan, force)
        if not plan.has_changes:
            click.echo("No changes: Sentry already matches the manifests.", err=True)
            return ApplyReport(organization)
        if not plan_file and not auto_approve:
            count = sum(1 for c in plan.changes if str(c.action) != "no-op")
            these = "this 1 change" if count == 1 else f"these {count} changes"
            if not click.confirm(f"Apply {these} to {organization}?",
                                 default=False, err=True):
                raise DexterError("apply cancelled; nothing was changed",
                                  code="cancelled")
        progress = progress_for(sys.stderr, interactive=sys.stderr.isatty())
        return await execute_plan(plan, facade, concurrency=concurrency, progress=progress,
                                  tasks=TaskLimits(wait=task_wait))


@click.command(name="apply")
@click.argument("path", default=".", type=click.Path())
@click.option("--auto-approve", is_flag=True,
              help="Apply without asking (CI). Without a terminal this flag is required.")
@click.option("--target", "target_texts", multiple=True, metavar="KIND/KEY",
              help="Apply only these objects (and their children); repeatable.")
@click.option("--force", is_flag=True, help="Apply even when the plan breaches safety limits.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Format of the final report (stdout).")
@click.option("--task-wait", type=click.FloatRange(0, 3600), envvar=TASK_WAIT_ENV,
              default=TASK_WAIT, show_default=True, metavar="SECONDS",
              help="After a lost answer to a Slack rule write Sentry may finish in a "
                   f"background task, look for the rule this long before sending the write "
                   f"again (env {TASK_WAIT_ENV}).")
@sentry_options
@click.pass_context
def command(ctx: click.Context, path: str, auto_approve: bool, target_texts: tuple[str, ...],
            force: bool, fmt: str, task_wait: float, sentry_url: str | None, org: str | None,
            concurrency: int) -> None:
    """Make Sentry match the manifests at PATH, or apply a saved plan file exactly."""
    targets = parse_targets(target_texts, catalog())
    report = run(_apply(path=path, plan_file=is_plan_file(path), org=org,
                        sentry_url=sentry_url, concurrency=concurrency, targets=targets,
                        auto_approve=auto_approve, force=force, fmt=fmt,
                        task_wait=task_wait))
    if not report.outcomes and fmt == "text":
        return
    click.echo(render_json(report) if fmt == "json" else render_text(report))
    ctx.exit(report.exit_code)
