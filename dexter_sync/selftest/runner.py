"""The selftest run: find what the organization offers, sweep leftovers of earlier runs,
run the shape checks and the per-kind lifecycle, and sweep again whatever happens
(a failed check, an exception, Ctrl-C or SIGTERM cancelling the run)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.codes import ErrorCode
from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from ..core.state import DesiredState
from ..kinds.registry import all_kinds, apply_order
from ..sentry.errors import SentryError
from ..sentry.facade import SentryFacade
from .checks import Check, catalogue
from .contract import ContractContext
from .lifecycle import STEPS, Lifecycle
from .manifests import write_and_load
from .results import CheckFailed, CheckResult, CheckSkipped
from .samples import Target, build_samples
from .sandbox import Sandbox, SweepReport, new_run_id, sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SelftestOptions:
    project: str | None = None
    """Project to create project-scoped samples in (default: the first by slug)."""
    read_only: bool = False
    """Only listing and shape checks; nothing is written."""


@dataclass
class SelftestRun:
    run_id: str
    organization: str
    read_only: bool
    results: list[CheckResult] = field(default_factory=list)
    swept: int = 0
    """Objects of earlier, interrupted runs removed before this run."""

    @property
    def failed(self) -> bool:
        return any(r.status == "fail" for r in self.results)


async def discover_target(facade: SentryFacade, directory: Directory, sandbox: Sandbox,
                          project: str | None) -> Target:
    if project is not None and project not in directory.projects:
        raise DexterError(f"no project {project!r} in organization {facade.organization} "
                          f"(it has: {', '.join(sorted(directory.projects)) or 'none'})",
                          code=ErrorCode.UNKNOWN_PROJECT)
    chosen = project or min(directory.projects, default=None)
    return Target(sandbox=sandbox, directory=directory, project=chosen,
                  team=min(directory.teams, default=None),
                  member=min(directory.members, default=None),
                  environment=min(directory.environments, default=None),
                  issue=await _an_issue(facade, directory, chosen))


async def _an_issue(facade: SentryFacade, directory: Directory, project: str | None) -> str | None:
    """The id of one issue (of the chosen project when it has any), for link checks."""
    path = f"organizations/{path_segment(facade.organization)}/issues/"
    scopes: list[dict[str, Any]] = []
    if project is not None:
        scopes.append({"project": directory.projects[project]})
    scopes.append({})
    for scope in scopes:
        try:
            response = await facade.send(ApiRequest("GET", path, params={
                **scope, "query": "", "statsPeriod": "", "limit": 1}))
        except SentryError as error:
            log.info("no issue for the link checks: %s", error)
            return None
        body = response.body
        if isinstance(body, list) and body and isinstance(body[0], dict) and body[0].get("id"):
            return str(body[0]["id"])
    return None


async def _run_check(check: Check, ctx: ContractContext) -> CheckResult:
    if check.writes and ctx.read_only:
        return CheckResult(check.name, check.kind, "skip", "writes; --read-only")
    try:
        detail = await check.run(ctx)
    except CheckSkipped as skip:
        return CheckResult(check.name, check.kind, "skip", str(skip))
    except (CheckFailed, SentryError) as error:
        return CheckResult(check.name, check.kind, "fail", str(error))
    except Exception as error:  # noqa: BLE001 -- a check that breaks fails itself, not the run
        return CheckResult(check.name, check.kind, "fail", f"{type(error).__name__}: {error}")
    return CheckResult(check.name, check.kind, "pass", detail)


def _sweep_result(name: str, report: SweepReport) -> CheckResult:
    if report.failed:
        return CheckResult(name, None, "fail", "could not remove: " + "; ".join(report.failed))
    shown = ", ".join(report.deleted) if report.deleted else "nothing to remove"
    return CheckResult(name, None, "pass", f"removed {len(report.deleted)}: {shown}")


async def sweep_to_the_end(facade: SentryFacade, desired: DesiredState) -> SweepReport:
    """The final sweep, finished even when the run is cancelled again meanwhile (a second
    SIGTERM); the cancellation is passed on once the sweep is done."""
    task = asyncio.ensure_future(sweep(facade, desired))
    cancelled = False
    while True:
        try:
            report = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True
            continue
        break
    if cancelled:
        raise asyncio.CancelledError
    return report


async def run_selftest(facade: SentryFacade, options: SelftestOptions,
                       *, run_id: str | None = None) -> SelftestRun:
    sandbox = Sandbox(run_id or new_run_id())
    run = SelftestRun(sandbox.run_id, facade.organization, options.read_only)
    directory = await facade.read_directory(fresh=True)
    target = await discover_target(facade, directory, sandbox, options.project)
    order = apply_order()
    kinds = sorted((k.name for k in all_kinds()), key=order.index)
    samples, skipped = build_samples(target, kinds)
    with tempfile.TemporaryDirectory(prefix="dexter-selftest-") as tmp:
        workdir = Path(tmp)
        desired = write_and_load(workdir / "samples", facade.organization, samples.values())
        ctx = ContractContext(facade, target, desired, options.read_only)
        if options.read_only:
            run.results += [await _run_check(c, ctx) for c in catalogue()]
            return run
        before = await sweep(facade, desired)
        run.swept = len(before.deleted)
        run.results.append(_sweep_result("sweep-leftovers", before))
        try:
            run.results += [await _run_check(c, ctx) for c in catalogue()]
            for kind, reason in ctx.unserved.items():
                if samples.pop(kind, None) is not None:
                    skipped[kind] = reason
            lifecycle = Lifecycle(facade, samples, workdir)
            run.results += await lifecycle.run()
            run.results += [CheckResult(step, kind, "skip", reason)
                            for kind, reason in skipped.items() for step in STEPS]
        finally:
            # also on failure and cancellation (Ctrl-C, SIGTERM): nothing prefixed stays
            after = await sweep_to_the_end(facade, desired)
            run.results.append(_sweep_result("sweep", after))
    return run
