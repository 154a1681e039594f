"""Run a plan: wave after wave, each wave's changes concurrently (bounded), through the facade.

When the circuit breaker opens, no new write starts: the writes in flight finish, and every
change not yet started is reported "not attempted". A child whose parent failed (a deploy of
a release that could not be created) is not attempted either.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.changes import Action, Plan, ResourceChange
from ..kinds.base import ResourceKind
from ..kinds.registry import get_kind
from .changing import delete, update
from .converging import converge
from .creating import create_safely
from .failures import BreakerOpen
from .ports import WriteFacade
from .progress import ProgressSink, SilentProgress
from .report import ApplyReport, ChangeOutcome, Status
from .tasks import DEFAULT_LIMITS, TaskLimits
from .waves import Wave, plan_waves

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 8


@dataclass
class _Run:
    facade: WriteFacade
    organization: str
    progress: ProgressSink
    kinds: Callable[[str], ResourceKind[Any]]
    tasks: TaskLimits = DEFAULT_LIMITS
    stopped: str | None = None
    outcomes: dict[int, ChangeOutcome] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    """Addresses (`kind/key`) of changes that did not apply, for their children."""
    concurrent: list[str] = field(default_factory=list)
    """Keys where a concurrent run created the same object (see converging.py)."""

    def record(self, outcome: ChangeOutcome) -> None:
        self.outcomes[id(outcome.change)] = outcome
        if outcome.status is not Status.APPLIED:
            self.failed.add(outcome.change.address)
        self.progress.advance(outcome)

    def blocked_by(self, change: ResourceChange) -> str | None:
        parent_kind = self.kinds(change.kind).child_of
        if parent_kind and change.parent_key is not None:
            address = f"{parent_kind}/{change.parent_key}"
            if address in self.failed:
                return address
        return None


async def apply_change(facade: WriteFacade, organization: str, change: ResourceChange, *,
                       kind: ResourceKind[Any] | None = None,
                       tasks: TaskLimits = DEFAULT_LIMITS) -> ChangeOutcome:
    """One change, whatever its action. Raises BreakerOpen when the breaker refuses it."""
    kind = kind or get_kind(change.kind)
    if change.action in (Action.CREATE, Action.UPDATE):
        # ids only known once earlier waves applied (kind hook); the outcome reports the
        # change as planned
        sent = await kind.resolve_change(change, lambda name, key: facade.find_live(name, key))
        if change.action is Action.CREATE:
            outcome = await create_safely(facade, kind, organization, sent, tasks=tasks)
        else:
            outcome = await update(facade, kind, organization, sent, tasks=tasks)
        outcome.change = change
        return outcome
    if change.action is Action.DELETE:
        return await delete(facade, kind, organization, change)
    return ChangeOutcome(change, Status.APPLIED, "no change")


async def _run_one(run: _Run, change: ResourceChange) -> None:
    if run.stopped:
        run.record(ChangeOutcome(change, Status.NOT_ATTEMPTED, run.stopped))
        return
    parent = run.blocked_by(change)
    if parent:
        run.record(ChangeOutcome(change, Status.NOT_ATTEMPTED, f"{parent} was not applied"))
        return
    try:
        outcome = await apply_change(run.facade, run.organization, change,
                                     kind=run.kinds(change.kind), tasks=run.tasks)
    except BreakerOpen as error:
        if not run.stopped:
            run.stopped = f"circuit breaker open, no new writes started: {error}"
            run.progress.note(f"stopping: {run.stopped}")
        status = Status.FAILED if error.sent else Status.NOT_ATTEMPTED
        detail = ("outcome unknown (a look-up was refused); the next run adopts it if it "
                  "was created" if error.sent else run.stopped)
        outcome = ChangeOutcome(change, status, detail, attempts=error.writes)
    except Exception as error:  # a kind that cannot build its request: fail that change only
        log.debug("change %s raised", change.address, exc_info=True)
        outcome = ChangeOutcome(change, Status.FAILED, f"{type(error).__name__}: {error}")
    run.record(outcome)


async def _run_wave(run: _Run, wave: Wave, concurrency: int) -> None:
    queue: asyncio.Queue[ResourceChange] = asyncio.Queue()
    for change in wave.changes:
        queue.put_nowait(change)

    async def worker() -> None:
        while True:
            try:
                change = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await _run_one(run, change)

    workers = max(1, min(concurrency, len(wave.changes)))
    await asyncio.gather(*(worker() for _ in range(workers)))


async def execute_plan(plan: Plan, facade: WriteFacade, *,
                       concurrency: int = DEFAULT_CONCURRENCY,
                       progress: ProgressSink | None = None,
                       kinds: Callable[[str], ResourceKind[Any]] = get_kind,
                       tasks: TaskLimits = DEFAULT_LIMITS) -> ApplyReport:
    """Apply every change of `plan`; never raises for a change that fails."""
    started = time.monotonic()
    run = _Run(facade, plan.organization, progress or SilentProgress(), kinds, tasks)
    waves = plan_waves(plan.changes)
    run.progress.start(sum(len(w.changes) for w in waves))
    for wave in waves:
        log.info("wave %s/%d: %d changes (%s)", wave.phase, wave.depth, len(wave.changes),
                 ", ".join(wave.kinds))
        await _run_wave(run, wave, concurrency)
        if not run.stopped:  # no new write (removing a twin) once the breaker opened
            run.concurrent += await converge(
                run.facade, run.organization, [run.outcomes[id(c)] for c in wave.changes],
                {c.kind: run.kinds(c.kind) for c in wave.changes})
    run.progress.finish()
    ordered = [run.outcomes[id(c)] for w in waves for c in w.changes]
    return ApplyReport(plan.organization, ordered, run.stopped, time.monotonic() - started,
                       concurrent=run.concurrent)
