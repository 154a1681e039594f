"""Per kind, through dexter's own loader, planner and apply steps:

    create -> read-list -> normalized -> read-detail -> update -> plan-quiet -> delete

`normalized` and `read-detail` run the planner on what Sentry answered (the list item, the
detail GET), so the comparison is the kind's own `canonical` on both sides and cannot drift
from what `dexter plan` does. Creates run in dependency order, deletes in reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..apply.executor import apply_change
from ..apply.report import Status
from ..core.changes import Action, Plan, ResourceChange
from ..core.diagnostics import ValidationError
from ..core.directory import Directory
from ..core.planning import make_plan
from ..core.references import check_references, desired_projects
from ..core.requests import ApiRequest
from ..core.state import DesiredState, LiveObject, LiveState
from ..kinds.registry import apply_order, catalog, get_kind
from ..sentry.errors import SentryError
from ..sentry.facade import SentryFacade
from .manifests import write_and_load
from .results import CheckFailed, CheckResult, CheckSkipped
from .samples import Sample
from .sandbox import writer

log = logging.getLogger(__name__)

STEPS = ("create", "read-list", "normalized", "read-detail", "update", "plan-quiet", "delete")

CONTRACT = {
    "metric_alert": "REFERENCE.md §1", "issue_alert": "REFERENCE.md §2",
    "discover_query": "REFERENCE.md §4", "release": "REFERENCE.md §5",
    "deploy": "REFERENCE.md §6", "repository": "REFERENCE.md §7",
    "code_mapping": "REFERENCE.md §8", "external_issue_link": "REFERENCE.md §9.2",
}
"""Where each kind's contract is written down: a failure names it."""

NO_DETAIL = {
    "repository": "Sentry has no GET for one repository (REFERENCE.md §7)",
    "code_mapping": "Sentry has no GET for one code mapping (REFERENCE.md §8)",
    "external_issue_link": "a link is read through its issue (REFERENCE.md §9.2)",
}


def describe(change: ResourceChange) -> str:
    """The plan's field differences as `path: sent X, read Y` lines."""
    if not change.diff:
        return f"the plan wants to {change.action} {change.address}"
    return "; ".join(f"{fc.dotted}: sent {fc.after!r}, read {fc.before!r}" for fc in change.diff)


def route_of(request_of: Any) -> str:
    """`METHOD /api/0/path` of a request a kind builds, or why it cannot build one."""
    try:
        request: ApiRequest = request_of()
    except Exception as error:  # noqa: BLE001 -- the kind refused to build it: say so in the detail
        return f"(no request: {error})"
    return request.route


@dataclass
class Lifecycle:
    facade: SentryFacade
    samples: dict[str, Sample]
    workdir: Path
    results: list[CheckResult] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    """kind -> natural key of its sample."""
    broken: dict[str, str] = field(default_factory=dict)
    """kind -> why its later steps cannot run (its create failed, ...)."""

    @property
    def organization(self) -> str:
        return self.facade.organization

    def record(self, kind: str, step: str, status: str, detail: str) -> None:
        self.results.append(CheckResult(step, kind, status, detail))  # type: ignore[arg-type]

    async def step(self, kind: str, name: str, body: Any) -> bool:
        """Run one step for one kind; True when it passed."""
        if kind in self.broken:
            self.record(kind, name, "skip", self.broken[kind])
            return False
        try:
            detail = await body()
        except CheckSkipped as skip:
            self.record(kind, name, "skip", str(skip))
            return False
        except (CheckFailed, SentryError) as error:
            self.record(kind, name, "fail", self.cite(kind, str(error)))
            return False
        except Exception as error:  # noqa: BLE001 -- a step that breaks fails itself, not the run
            self.record(kind, name, "fail", self.cite(kind, f"{type(error).__name__}: {error}"))
            return False
        self.record(kind, name, "pass", detail)
        return True

    @staticmethod
    def cite(kind: str, detail: str) -> str:
        return f"{detail} (contract: {CONTRACT[kind]})" if kind in CONTRACT else detail

    def ordered(self) -> list[str]:
        order = apply_order()
        return sorted(self.samples, key=order.index)

    # ---- the steps -----------------------------------------------------------------------

    async def run(self) -> list[CheckResult]:
        desired = write_and_load(self.workdir / "created", self.organization,
                                 self.samples.values())
        self.keys = {r.kind: r.key for r in desired.resources if r.kind in self.samples}
        try:
            plan = await self.plan(desired)
        except Exception as error:  # noqa: BLE001 -- a plan that cannot be made fails every create
            for kind in self.ordered():
                self.broken[kind] = "create failed"
                self.record(kind, "create", "fail", f"planning the samples failed: {error}")
            return self.results
        created: set[str] = set()
        for kind in self.ordered():
            if created & set(get_kind(kind).depends_on):
                # a kind whose payload names an object made in this run (a code mapping's
                # repository) is planned again now that the object exists
                replanned = await self.guarded(self.plan(desired), kind, "create")
                if replanned is None:
                    continue
                plan = replanned
            if await self.step(kind, "create", lambda k=kind, p=plan: self.create(p, k)):
                created.add(kind)
            else:
                self.broken.setdefault(kind, "create failed")
        read_error: str | None = None
        try:
            live = await self.read(desired)
        except SentryError as error:  # every kind's read-list step fails with it
            read_error = str(error)
            live = LiveState(directory=Directory(self.organization))
        for kind in self.ordered():
            if not await self.step(kind, "read-list",
                                   lambda k=kind: self.read_list(live, k, read_error)):
                self.broken.setdefault(kind, "not found in the list")
            await self.step(kind, "normalized",
                            lambda k=kind: self.normalized(desired, live, k))
            await self.step(kind, "read-detail",
                            lambda k=kind: self.read_detail(desired, live, k))
        updated = [k for k, s in self.samples.items() if s.update and k not in self.broken]
        desired = write_and_load(self.workdir / "updated", self.organization,
                                 self.samples.values(), updated)
        await self.planned_step(desired, "update", self.update)
        await self.planned_step(desired, "plan-quiet", self.plan_quiet)
        for kind in reversed(self.ordered()):
            await self.step(kind, "delete", lambda k=kind: self.delete(desired, k))
        return self.results

    async def guarded(self, planning: Awaitable[Plan], kind: str, name: str) -> Plan | None:
        """A plan, or None after recording the step as failed (and the kind as broken)."""
        try:
            return await planning
        except Exception as error:  # noqa: BLE001 -- the step fails, the run goes on
            self.broken.setdefault(kind, f"{name} failed")
            self.record(kind, name, "fail", self.cite(kind, f"planning failed: {error}"))
            return None

    async def planned_step(self, desired: DesiredState, name: str,
                           body: Callable[[Plan, str], Awaitable[str]]) -> None:
        """Plan the manifests once, then run one step per kind against that plan."""
        try:
            plan = await self.plan(desired)
        except Exception as error:  # noqa: BLE001 -- a plan that cannot be made fails the step
            for kind in self.ordered():
                self.record(kind, name, "fail", f"planning failed: {error}")
            return
        for kind in self.ordered():
            await self.step(kind, name, lambda k=kind: body(plan, k))

    async def read(self, desired: DesiredState) -> LiveState:
        return await self.facade.read_state(self.ordered(),
                                            projects=sorted(desired_projects(desired, catalog())) or None,
                                            desired=desired)

    async def plan(self, desired: DesiredState) -> Plan:
        """`dexter plan` of the samples (the manifests declare exactly the sampled kinds,
        nothing is pruned, so reading those kinds is the whole read scope)."""
        live = await self.read(desired)
        problems = check_references(desired, live.directory, catalog())
        if problems:
            raise ValidationError(problems)
        return make_plan(desired, live, kinds=catalog())

    def change_for(self, plan: Plan, kind: str) -> ResourceChange | None:
        return next((c for c in plan.changes if c.kind == kind and c.key == self.keys[kind]),
                    None)

    async def create(self, plan: Plan, kind: str) -> str:
        change = self.change_for(plan, kind)
        if change is None or change.action is not Action.CREATE:
            raise CheckFailed(f"the plan does not create {kind}/{self.keys[kind]} "
                              f"(found: {change.action if change else 'no change'}); a leftover "
                              "of this run id exists")
        route = route_of(lambda: get_kind(kind).create_request(self.organization, change))
        outcome = await apply_change(writer(self.facade), self.organization, change)
        if outcome.status is not Status.APPLIED:
            raise CheckFailed(f"request: {route}; Sentry: {outcome.detail}")
        return route

    def found(self, live: LiveState, kind: str) -> LiveObject:
        matches = [o for o in live.of_kind(kind) if o.key == self.keys[kind]]
        listing = route_of(lambda: _first_listing(kind, live, self.organization))
        if len(matches) != 1:
            raise CheckFailed(f"request: {listing}; expected 1 object with key "
                              f"{self.keys[kind]!r}, found {len(matches)}")
        return matches[0]

    async def read_list(self, live: LiveState, kind: str, read_error: str | None) -> str:
        if read_error is not None:
            raise CheckFailed(f"reading the samples back failed: {read_error}")
        obj = self.found(live, kind)
        return f"{kind}/{obj.key} listed with id {obj.id}"

    async def normalized(self, desired: DesiredState, live: LiveState, kind: str) -> str:
        obj = self.found(live, kind)
        return self.compare(desired, live, kind, obj, "list item")

    def compare(self, desired: DesiredState, live: LiveState, kind: str, obj: LiveObject,
                source: str) -> str:
        """Plan the sample against one live object: any change is a normalization gap."""
        mine = [r for r in desired.resources if r.kind == kind]
        scoped = DesiredState(settings=desired.settings, resources=mine)
        others = [o for o in live.of_kind(kind) if o.key != obj.key]
        state = LiveState(directory=live.directory, objects={kind: [*others, obj]})
        change = self.change_for(make_plan(scoped, state, kinds=catalog()), kind)
        if change is not None and change.action is not Action.NOOP:
            raise CheckFailed(f"{source} of {kind}/{obj.key} differs from what was sent: "
                              f"{describe(change)}")
        return f"the {source} normalizes to what was sent"

    async def read_detail(self, desired: DesiredState, live: LiveState, kind: str) -> str:
        if kind in NO_DETAIL:
            raise CheckSkipped(NO_DETAIL[kind])
        resource_kind = get_kind(kind)
        if not resource_kind.prunable:
            raise CheckSkipped(f"Sentry has no detail endpoint for {kind}")
        obj = self.found(live, kind)
        change = ResourceChange(Action.DELETE, kind, obj.key, live_id=obj.id,
                                project=obj.project, live=obj.data)
        path = resource_kind.delete_request(self.organization, change).path
        response = await self.facade.send(ApiRequest("GET", path))
        if not isinstance(response.body, dict):
            raise CheckFailed(f"request: GET /api/0/{path}; expected a JSON object, got "
                              f"{type(response.body).__name__}")
        return self.compare(desired, live, kind, replace(obj, data=response.body),
                            f"detail GET /api/0/{path}") + f" (GET /api/0/{path})"

    async def update(self, plan: Plan, kind: str) -> str:
        sample = self.samples[kind]
        resource_kind = get_kind(kind)
        if not resource_kind.updatable or not sample.update:
            raise CheckSkipped(f"no update step: Sentry cannot change a {kind} in place")
        change = self.change_for(plan, kind)
        if change is None or change.action is not Action.UPDATE:
            raise CheckFailed(f"changing {', '.join(sample.update)} planned "
                              f"{change.action if change else 'nothing'} for {kind}")
        fields = {str(fc.path[0]) for fc in change.diff if fc.path}
        if fields != set(sample.update):
            raise CheckFailed(f"changing {', '.join(sample.update)} planned differences in "
                              f"{describe(change)}")
        route = route_of(lambda: resource_kind.update_request(self.organization, change))
        outcome = await apply_change(writer(self.facade), self.organization, change)
        if outcome.status is not Status.APPLIED:
            raise CheckFailed(f"request: {route}; Sentry: {outcome.detail}")
        return f"{route} changed {', '.join(sorted(fields))}"

    async def plan_quiet(self, plan: Plan, kind: str) -> str:
        change = self.change_for(plan, kind)  # None: unchanged (the planner lists no no-op)
        if change is not None and change.action is not Action.NOOP:
            raise CheckFailed(f"after apply the plan still wants to {change.action} "
                              f"{change.address}: {describe(change)}")
        return "the plan after apply has no change"

    async def delete(self, desired: DesiredState, kind: str) -> str:
        resource_kind = get_kind(kind)
        if not resource_kind.prunable:
            parent = resource_kind.child_of or "nothing"
            raise CheckSkipped(f"Sentry cannot delete a {kind}; it goes with its {parent}")
        live = await self.read(desired)
        obj = self.found(live, kind)
        change = ResourceChange(Action.DELETE, kind, obj.key, live_id=obj.id,
                                project=obj.project, live=obj.data)
        route = route_of(lambda: resource_kind.delete_request(self.organization, change))
        outcome = await apply_change(writer(self.facade), self.organization, change)
        if outcome.status is not Status.APPLIED:
            raise CheckFailed(f"request: {route}; Sentry: {outcome.detail}")
        after = await self.read(desired)
        if any(o.key == obj.key for o in after.of_kind(kind)):
            raise CheckFailed(f"request: {route}; the object is still listed afterwards")
        return route


def _first_listing(kind: str, live: LiveState, organization: str) -> ApiRequest:
    from ..kinds.base import ReadContext

    ctx = ReadContext(organization=organization, directory=live.directory,
                      projects=sorted(live.directory.projects), live=live)
    listings = get_kind(kind).list_requests(ctx)
    if not listings:
        raise ValueError("the kind lists nothing without a declared parent")
    return listings[0].request
