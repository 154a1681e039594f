"""The watch loop: every interval, one cycle (plan + feeds -> events), until told to stop.

A cycle reads live state through the facade and the plan function `dexter plan` uses,
turns the plan into drift events, polls the feeds the chosen event types need, and with
`--auto-apply` applies the plan. A Sentry outage fails the cycle, not the daemon: after
`unavailable_after` failed cycles in a row it emits `sentry.unavailable` (and /healthz turns
503), the wait between cycles grows (up to `max_backoff`), and the first good cycle emits
`sentry.recovered`. Stopping lets the current cycle finish (bounded by `stop_grace`).
With `--auto-apply`, each cycle first polls the Slack rule tasks an earlier apply (or an
earlier daemon) left in the pending-task record (apply/earlier_tasks.py), once: a create
whose task may still run is not attempted in that cycle.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ..apply.earlier_tasks import settle_earlier_tasks
from ..apply.executor import execute_plan
from ..apply.pending import PendingTaskRecord, record_path
from ..apply.ports import WriteFacade
from ..apply.report import Status
from ..apply.tasks import TASK_WAIT
from ..core.changes import Plan
from ..core.diagnostics import DexterError
from ..core.escaping import printable
from ..core.state import DesiredState
from ..sentry import feeds
from ..sentry.errors import Forbidden, NotFound, SentryError, SentryHTTPError
from ..sentry.facade import SentryFacade
from ..sentry.release_numbers import compare_releases
from .attribution import AuditLog
from .drift import DriftWatcher
from .emitter import Emitter
from .events import WatchEvent
from .feeds import IncidentWatcher, IssueWatcher, ReleaseWatcher
from .regression import RegressionWatcher
from .state import WatchState

log = logging.getLogger(__name__)

FULL_COLLECTION_EVERY = 10
"""Cycles between explicit full garbage collections (see `run`)."""

Planner = Callable[[SentryFacade, DesiredState], Awaitable[Plan]]
Read = Callable[[], Awaitable[list[dict[str, Any]]]]


class Watcher(Protocol):
    """Turns one feed answer into events (sync, or async when it reads more)."""

    @property
    def types(self) -> tuple[str, ...]: ...

    def events(self, answer: list[dict[str, Any]]
               ) -> list[WatchEvent] | Awaitable[list[WatchEvent]]: ...


@dataclass(frozen=True)
class LoopOptions:
    interval: float = 60.0
    auto_apply: bool = False
    unavailable_after: int = 2
    """Failed cycles in a row before `sentry.unavailable` and /healthz 503."""
    max_backoff: float = 300.0
    stop_grace: float = 5.0
    """Seconds a stop request waits for the running cycle before cancelling it."""
    apply_concurrency: int = 4
    regression_check: float = 300.0
    """Seconds between two comparisons of one new release with its previous one."""


def is_outage(error: BaseException) -> bool:
    """Sentry unreachable or failing (5xx, no answer, open breaker, retries on 429
    exhausted, an answer in no documented shape), as opposed to a request it refused."""
    if isinstance(error, SentryHTTPError):
        return error.status >= 500 or error.status == 429
    return isinstance(error, SentryError)


class WatchLoop:
    def __init__(self, facade: SentryFacade, desired: DesiredState, planner: Planner,
                 emitter: Emitter, state: WatchState, options: LoopOptions) -> None:
        self.facade = facade
        self.desired = desired
        self.planner = planner
        self.emitter = emitter
        self.state = state
        self.options = options
        org = facade.organization
        self.drift = DriftWatcher(org, AuditLog(
            lambda: feeds.audit_rows(facade.gateway, org)))
        issues, incidents, releases = IssueWatcher(org), IncidentWatcher(org), ReleaseWatcher(org)
        regression = RegressionWatcher(
            org, lambda base, candidate: compare_releases(facade.gateway, org, base, candidate),
            check_every=options.regression_check)
        specs: list[tuple[Read, list[Watcher]]] = [
            (lambda: feeds.recent_issues(facade.gateway, org), [issues]),
            (lambda: feeds.recent_incidents(facade.gateway, org), [incidents]),
            (lambda: feeds.recent_releases(facade.gateway, org), [releases, regression]),
        ]
        # only the feeds (and watchers) some chosen event type needs
        self.feeds: list[tuple[Read, list[Watcher]]] = []
        for read, watchers in specs:
            wanted = [w for w in watchers if any(emitter.wants(t) for t in w.types)]
            if wanted:
                self.feeds.append((read, wanted))
        self.wants_drift = options.auto_apply or any(
            emitter.wants(t) for t in ("drift.detected", "drift.resolved"))
        self._reported: set[str] = set()
        self.pending = (PendingTaskRecord(record_path(desired.settings.root), facade.base_url)
                        if options.auto_apply else None)
        self._held: dict[str, str] = {}
        """Creates not to attempt this cycle: an earlier rule task may still make them."""

    # ---- one cycle -----------------------------------------------------------------------

    async def cycle(self) -> None:
        started = time.monotonic()
        try:
            events, plan = await self._read()
        except Exception as error:
            if not is_outage(error):
                raise
            self._failed(error)
        else:
            self._succeeded()
            for event in events:
                self.emitter.emit(event)
            self.state.drift = dict(self.drift.current)
            if self.options.auto_apply and plan is not None and plan.has_changes:
                await self._apply(plan)
        finally:
            seconds = time.monotonic() - started
            self.state.cycles += 1
            self.state.last_cycle_at = time.time()
            self.state.last_cycle_seconds = seconds
            self.state.cycle_seconds_total += seconds

    async def _read(self) -> tuple[list[WatchEvent], Plan | None]:
        """Everything this cycle needs, read concurrently; all or nothing, so a cycle that
        failed half-way emits no half-truths (an unread feed is not "all resolved")."""
        if self.pending is not None:  # first: a task that has ended shows its rule to the plan
            earlier = await settle_earlier_tasks(
                cast(WriteFacade, self.facade), self.pending, self.state.organization,
                wait=TASK_WAIT, once=True)
            self._held = earlier.held
            for note in earlier.notes:
                log.warning("%s", printable(note))
        plan_task = self.planner(self.facade, self.desired) if self.wants_drift else None
        answers = await asyncio.gather(
            *(self._feed(read) for read, _ in self.feeds),
            *([plan_task] if plan_task is not None else []))
        plan = answers[-1] if plan_task is not None else None
        events: list[WatchEvent] = []
        if plan is not None:
            events += await self.drift.events(plan)
        for (_, watchers), answer in zip(self.feeds, answers, strict=False):
            if answer is None:
                continue
            for watcher in watchers:
                events += await self._watch(watcher, answer)
        return events, plan

    async def _watch(self, watcher: Watcher, answer: list[dict[str, Any]]) -> list[WatchEvent]:
        """A watcher's events; one that reads more (release comparison) and is refused
        (400/403/404: a Sentry without that endpoint or scope) is reported, not fatal."""
        try:
            found = watcher.events(answer)
            return list(await found) if inspect.isawaitable(found) else list(found)
        except SentryHTTPError as error:
            if is_outage(error):
                raise
            self._report_once(f"{type(watcher).__name__}: Sentry refused a read: {error}")
            return []

    async def _feed(self, read: Read) -> list[dict[str, Any]] | None:
        """One feed's answer; None when this Sentry does not serve it to us (403/404:
        a feature the org lacks), reported once."""
        try:
            return await read()
        except (Forbidden, NotFound) as error:
            self._report_once(f"skipping a feed Sentry does not serve: {error}")
            return None

    def _report_once(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            log.warning("%s", message)

    def _failed(self, error: BaseException) -> None:
        state = self.state
        state.failed_cycles += 1
        state.consecutive_failures += 1
        reason = str(error)
        log.warning("watch cycle failed (%d in a row): %s", state.consecutive_failures, reason)
        if not state.unavailable and state.consecutive_failures >= self.options.unavailable_after:
            state.unavailable, state.unavailable_reason = True, reason
            self.emitter.emit(WatchEvent(
                "sentry.unavailable", state.organization, None, None,
                {"reason": reason, "failed_cycles": state.consecutive_failures}))

    def _succeeded(self) -> None:
        state = self.state
        if state.unavailable:
            self.emitter.emit(WatchEvent(
                "sentry.recovered", state.organization, None, None,
                {"failed_cycles": state.consecutive_failures,
                 "reason": state.unavailable_reason}))
        state.unavailable, state.unavailable_reason = False, None
        state.consecutive_failures = 0

    async def _apply(self, plan: Plan) -> None:
        org = self.state.organization
        if plan.safety:  # never heal past a safety limit without a human
            for finding in plan.safety:
                self.emitter.emit(WatchEvent(
                    "apply.failed", org, finding.kind, finding.key,
                    {"reason": "unsafe-plan", "detail": finding.message,
                     "code": finding.code}))
            return
        report = await execute_plan(plan, cast(WriteFacade, self.facade),
                                    concurrency=self.options.apply_concurrency,
                                    pending=self.pending, held=self._held)
        for outcome in report.outcomes:
            change = outcome.change
            ok = outcome.status is Status.APPLIED
            self.emitter.emit(WatchEvent(
                "apply.succeeded" if ok else "apply.failed", org, change.kind, change.key,
                {"action": str(change.action), "status": str(outcome.status),
                 "detail": outcome.detail, "live_id": outcome.live_id,
                 "file": outcome.source}))

    # ---- the loop ------------------------------------------------------------------------

    def next_delay(self) -> float:
        failures = self.state.consecutive_failures
        if not failures:
            return self.options.interval
        return min(self.options.interval * 2.0 ** min(failures, 8),
                   max(self.options.max_backoff, self.options.interval))

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> None:
        self.state.loop_alive = True
        try:
            while not stop.is_set():
                await self._cycle_or_stop(stop)
                if self.state.cycles % FULL_COLLECTION_EVERY == 0:
                    # The planner freezes the collector while it plans (gc.freeze); what it
                    # unfreezes lands in the oldest generation without counting toward the
                    # next full collection, so the cycles' garbage would pile up there.
                    gc.collect()
                if once or stop.is_set():
                    return
                try:
                    await asyncio.wait_for(stop.wait(), self.next_delay())
                except TimeoutError:
                    pass
        finally:
            self.state.loop_alive = False

    async def _cycle_or_stop(self, stop: asyncio.Event) -> None:
        """Run one cycle; a stop request lets it finish within `stop_grace` seconds."""
        cycle = asyncio.ensure_future(self._guarded_cycle())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({cycle, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not cycle.done():
                self.state.stopping = True
                done, _ = await asyncio.wait({cycle}, timeout=self.options.stop_grace)
                if not done:
                    log.warning("the running cycle did not finish within %.0fs of the stop "
                                "request; cancelling it", self.options.stop_grace)
                    cycle.cancel()
                    await asyncio.gather(cycle, return_exceptions=True)
        finally:
            stopping.cancel()

    async def _guarded_cycle(self) -> None:
        """A cycle whose non-outage error (bad manifests vs live names, a bug) is reported
        and survived: the daemon keeps watching the rest."""
        try:
            await self.cycle()
        except DexterError as error:
            self._report_once(f"watch cycle: {error}")
        except Exception:  # noqa: BLE001 -- the daemon's boundary: log the bug with its
            # traceback and keep watching; the next cycle starts from a fresh read
            log.exception("watch cycle failed unexpectedly")
