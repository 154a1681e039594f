"""`dexter plan`: load manifests -> read live state -> reference checks -> plan -> render.

`plan_live(facade, desired, ...)` is the whole read-and-plan sequence, shared with
`dexter apply` (which plans the same way before asking for confirmation) and `dexter
export`'s round trip. Exit codes: 0, 1 on error, 2 with `--detailed-exitcode` when the
plan has changes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import click

from ..apply.earlier_tasks import EarlierTasks, settle_earlier_tasks
from ..apply.pending import PendingTaskRecord, record_path
from ..apply.tasks import TASK_WAIT, TASK_WAIT_ENV
from ..core.changes import Plan
from ..core.diagnostics import ValidationError
from ..core.escaping import printable
from ..core.planning import Target, make_plan, parse_targets
from ..core.references import check_references, desired_projects
from ..core.state import DesiredState
from ..kinds.registry import all_kinds, apply_order, catalog, get_kind
from ..manifest import load_manifests
from ..render.jsonplan import render_json
from ..render.markdown import render_markdown
from ..render.planfile import write_plan
from ..render.text import render_text, use_colour
from .common import connect, global_options, notice, resolve_org, run, sentry_options
from .progress import reading_progress


def read_scope(desired: DesiredState, targets: Iterable[Target] = (),
               all_projects: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(kinds, projects) to read: declared and pruned kinds (and their children), the
    manifests' projects, and every project for kinds pruned org-wide."""
    prune = desired.settings.prune
    kinds: set[str] = {r.kind for r in desired.resources}
    projects: set[str] = desired_projects(desired, catalog())
    for kind in all_kinds():
        rule = prune.get(kind.name, prune.get(kind.section, False))
        if rule and kind.prunable:
            kinds.add(kind.name)
            if kind.scope == "project":
                projects.update(all_projects if rule is True else [str(p) for p in rule])
    wanted = list(targets)
    if wanted:
        named = {t_kind for t_kind, _ in wanted}
        kinds = {k for k in kinds if k in named or get_kind(k).child_of in named}
        kinds.update(named)
    for kind in all_kinds():  # children ride with their parents (deploys with releases)
        if kind.child_of in kinds:
            kinds.add(kind.name)
    order = apply_order()
    return sorted(kinds, key=order.index), sorted(projects)


async def plan_live(facade: Any, desired: DesiredState, *, targets: Iterable[Target] = (),
                    cosmetics: bool = True) -> Plan:
    """Read what the manifests need from Sentry, check references, and plan."""
    targets = list(targets)
    directory = await facade.read_directory()
    kinds, projects = read_scope(desired, targets, directory.projects)
    live = await facade.read_state(kinds, projects=projects, desired=desired)
    # after the read: the live directory also holds the Slack channel ids learned from rules
    kinds_of_run = catalog()
    problems = check_references(desired, live.directory, kinds_of_run)
    if problems:
        raise ValidationError(problems)
    plan = make_plan(desired, live, kinds=kinds_of_run, targets=targets, cosmetics=cosmetics)
    plan.projects_read = list(projects)
    return plan


async def earlier_tasks(facade: Any, manifest_root: str | None, organization: str, *,
                        wait: float, dry: bool = False
                        ) -> tuple[PendingTaskRecord, EarlierTasks]:
    """The pending-task record of the manifests at `manifest_root` and its tasks of this
    Sentry and organization, settled (apply) or looked at (plan); each is told on stderr."""
    record = PendingTaskRecord(record_path(manifest_root), facade.base_url)
    count = len(record.tasks(organization))
    if not count:  # the common case: no record, nothing to settle (nor to read again)
        return record, EarlierTasks()
    if not dry:  # the wait may be long: say why nothing seems to happen
        notice(f"settling {count} Slack rule write{'s' if count != 1 else ''} an earlier "
               f"apply left unfinished in {record.path} first (at most {wait:g}s after each "
               "was sent)")
    earlier = await settle_earlier_tasks(facade, record, organization, wait=wait, dry=dry)
    for note in earlier.notes:
        notice(printable(note))
    return record, earlier


def task_wait_option(func: Any) -> Any:
    return click.option(
        "--task-wait", type=click.FloatRange(0, 3600), envvar=TASK_WAIT_ENV, default=TASK_WAIT,
        show_default=True, metavar="SECONDS",
        help="Sentry may finish a Slack rule write in a background task: after a lost answer, "
             "look for the rule this long before sending the write again, and wait as long "
             "(from its start) for a task an earlier apply left pending; plan says which "
             f"creates apply would hold back (env {TASK_WAIT_ENV}).")(func)


def load_desired(path: str, organization: str | None) -> DesiredState:
    """The manifests at `path`; `--org` / SENTRY_ORG override their `organization:`."""
    desired = load_manifests(path)
    desired.settings.organization = resolve_org(organization, desired.settings.organization)
    return desired


async def _plan(desired: DesiredState, *, sentry_url: str | None, concurrency: int,
                targets: list[Target], task_wait: float) -> Plan:
    organization = desired.settings.organization
    async with connect(sentry_url=sentry_url, organization=organization, desired=desired,
                       concurrency=concurrency) as facade:
        await earlier_tasks(facade, desired.settings.root, organization, wait=task_wait,
                            dry=True)
        async with reading_progress(facade, organization):
            return await plan_live(facade, desired, targets=targets)


def render(plan: Plan, fmt: str, *, explain: bool = False, colour: bool = False,
           verbose: bool = False) -> str:
    if fmt == "json":
        return render_json(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    return render_text(plan, colour=colour, explain=explain, verbose=verbose)


@click.command(name="plan")
@click.argument("path", default=".", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]),
              default="text", show_default=True, help="Output format.")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Save the plan (with fingerprints) for `dexter apply FILE`.")
@click.option("--target", "target_texts", multiple=True, metavar="KIND/KEY",
              help="Limit the plan to these objects (and their children); repeatable.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 2 when the plan has changes, 0 when it has none.")
@click.option("--explain", is_flag=True,
              help="List the cosmetic differences normalization suppressed.")
@task_wait_option
@sentry_options
@click.pass_context
def command(ctx: click.Context, path: str, fmt: str, out: str | None,
            target_texts: tuple[str, ...], detailed_exitcode: bool, explain: bool,
            task_wait: float, sentry_url: str | None, org: str | None,
            concurrency: int) -> None:
    """Show what `dexter apply` would change in Sentry to match the manifests at PATH."""
    targets = parse_targets(target_texts, catalog())
    desired = load_desired(path, org)
    plan = run(_plan(desired, sentry_url=sentry_url, concurrency=concurrency, targets=targets,
                     task_wait=task_wait))
    if out:
        write_plan(plan, out)
    click.echo(render(plan, fmt, explain=explain, colour=use_colour(sys.stdout),
                      verbose=global_options().verbose), nl=False)
    if out:
        click.echo(f"Saved the plan to {out}; apply it with `dexter apply {out}`.", err=True)
    if detailed_exitcode and plan.has_changes:
        ctx.exit(2)
