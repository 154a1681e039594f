"""Two applies at once: Sentry has no lock, so concurrent runs converge after the fact.

Two runs that planned the same creates both POST them, and Sentry keeps both. After a wave,
every kind this run created objects of is listed again (one read per kind, not one per
object). Where another live object has the same natural key as one this run created, both
runs keep the one with the lowest id (a rule they agree on without talking to each other)
and each removes only its own twin. The run then reports the concurrent run (exit 3), so a
CI job notices that two applies overlapped. The GitHub Action's `concurrency:` group is the
first line of defence; this is the second.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from pydantic import BaseModel

from ..core.changes import Action, ResourceChange
from ..core.diagnostics import DexterError
from ..core.state import DesiredResource, DesiredState, LiveObject, ManifestSettings
from ..kinds.base import ResourceKind
from ..sentry.errors import SentryError
from .creating import ADOPTED
from .ports import WriteFacade, send_write
from .report import ChangeOutcome, Status

log = logging.getLogger(__name__)


class _KeyOnly(BaseModel):
    """A desired entry known only by its key (kinds that list per parent read `parent_key`)."""


def id_order(live_id: str) -> tuple[int, int, str]:
    """Sentry's ids are numeric strings: compare them as numbers, anything else as text."""
    return (0, int(live_id), "") if live_id.isdigit() else (1, 0, live_id)


def created_here(outcome: ChangeOutcome) -> bool:
    """An object this run POSTed (not adopted, not a get-or-create kind)."""
    return (outcome.change.action is Action.CREATE and outcome.status is Status.APPLIED
            and outcome.live_id is not None and outcome.detail != ADOPTED)


async def converge(facade: WriteFacade, organization: str, outcomes: list[ChangeOutcome],
                   kinds: dict[str, ResourceKind[Any]]) -> list[str]:
    """Remove this run's twins of objects a concurrent run also created; return one note per
    key where a concurrent run was seen. `outcomes` are updated in place."""
    notes: list[str] = []
    by_kind: dict[str, list[ChangeOutcome]] = {}
    for outcome in outcomes:
        kind = kinds[outcome.change.kind]
        if created_here(outcome) and not kind.create_is_idempotent():
            by_kind.setdefault(kind.name, []).append(outcome)
    # one listing per kind, all kinds at once (the gateway bounds the concurrency)
    listings = await asyncio.gather(*(
        _relist(facade, organization, name, [o.change for o in created])
        for name, created in by_kind.items()), return_exceptions=True)
    for (name, created), live in zip(by_kind.items(), listings, strict=True):
        if isinstance(live, BaseException):
            if not isinstance(live, SentryError):
                raise live
            notes.append(f"{name}: could not re-read to check for a concurrent run: {live}")
            continue
        for outcome in created:
            twins = [o for o in live if o.key == outcome.change.key]
            if len(twins) > 1:
                notes.append(await _settle(facade, organization, kinds[name], outcome, twins))
    return notes


async def _relist(facade: WriteFacade, organization: str, kind: str,
                  changes: list[ResourceChange]) -> list[LiveObject]:
    projects = sorted({c.project for c in changes if c.project})
    desired = DesiredState(ManifestSettings(organization=organization, root=""), [
        DesiredResource(kind=kind, key=c.key, entry=_KeyOnly(), parent_key=c.parent_key)
        for c in changes])
    state = await facade.read_state([kind], projects=projects or None, desired=desired)
    return state.of_kind(kind)


async def _settle(facade: WriteFacade, organization: str, kind: ResourceKind[Any],
                  outcome: ChangeOutcome, twins: list[LiveObject]) -> str:
    ours = str(outcome.live_id)
    keep = min(twins, key=lambda o: id_order(o.id))
    ids = ", ".join(sorted((o.id for o in twins), key=id_order))
    seen = f"{outcome.change.address}: a concurrent run created it too (live ids {ids})"
    if keep.id == ours:
        outcome.detail = f"{seen}; kept this run's id {ours} (the lowest)"
        return outcome.detail
    twin = replace(outcome.change, action=Action.DELETE, live_id=ours, live=None)
    try:
        sent = await send_write(facade, kind.delete_request(organization, twin))
    except DexterError as error:  # a kind Sentry cannot delete (deploys)
        outcome.detail = f"{seen}; this run's id {ours} cannot be removed: {error}"
        return outcome.detail
    if sent.response is not None or (sent.failure and sent.failure.status == 404):
        outcome.live_id = keep.id
        outcome.detail = f"{seen}; kept id {keep.id} (the lowest), removed this run's id {ours}"
    else:
        failure = sent.failure.message if sent.failure else "no answer"
        outcome.detail = f"{seen}; removing this run's id {ours} failed: {failure}"
    log.warning("%s", outcome.detail)
    return outcome.detail
