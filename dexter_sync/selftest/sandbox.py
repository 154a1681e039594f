"""The sandbox: every object a selftest writes is named `dexter-selftest-<run id>-…`, and
the sweep deletes objects so named (from this run or an interrupted earlier one), never
anything else.

An object belongs to the sandbox when one segment of its natural key (`project/name`,
`issue/integration/key`, ...) starts with the prefix and a well-formed run id, so a user's
rule that merely mentions "dexter-selftest" in its name is not touched.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import cast

from ..apply.executor import apply_change
from ..apply.ports import WriteFacade
from ..apply.report import Status
from ..core.changes import Action, ResourceChange
from ..core.state import DesiredState, LiveObject
from ..kinds.registry import all_kinds, apply_order, get_kind
from ..sentry.errors import NotFound, SentryError
from ..sentry.facade import SentryFacade

log = logging.getLogger(__name__)

PREFIX = "dexter-selftest-"
_OWNED_SEGMENT = re.compile(rf"^{PREFIX}[0-9a-f]{{8}}(-|$)", re.IGNORECASE)


def writer(facade: SentryFacade) -> WriteFacade:
    """The facade as apply's write port (its frozen ApiResponse has read-only fields, which
    the port's Protocol spells as plain attributes)."""
    return cast(WriteFacade, facade)


def new_run_id() -> str:
    return secrets.token_hex(4)


def owns_key(key: str) -> bool:
    """True when a segment of this natural key carries the sandbox prefix and a run id."""
    return any(_OWNED_SEGMENT.match(segment) for segment in key.split("/"))


@dataclass(frozen=True)
class Sandbox:
    run_id: str

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.run_id}-"

    def name(self, suffix: str) -> str:
        return self.prefix + suffix


@dataclass
class SweepReport:
    deleted: list[str] = field(default_factory=list)
    """`kind/key` of every object removed."""
    failed: list[str] = field(default_factory=list)
    """`kind/key: reason` for objects that could not be read or removed."""


async def owned_objects(facade: SentryFacade, kind: str,
                        desired: DesiredState | None) -> list[LiveObject]:
    live = await facade.read_state([kind], desired=desired)
    return [obj for obj in live.of_kind(kind) if owns_key(obj.key)]


async def sweep(facade: SentryFacade, desired: DesiredState | None = None) -> SweepReport:
    """Delete every sandboxed object of every deletable kind, dependents first.

    `desired` scopes kinds that list per declared parent (the links of a declared issue).
    A kind the target does not serve, or cannot list, is reported and passed over.
    """
    report = SweepReport()
    order = apply_order()
    kinds = sorted((k for k in all_kinds() if k.prunable), key=lambda k: order.index(k.name),
                   reverse=True)
    for kind in kinds:
        try:
            objects = await owned_objects(facade, kind.name, desired)
        except NotFound:  # the target does not serve this kind: nothing of it can be left
            continue
        except SentryError as error:
            report.failed.append(f"{kind.name}: cannot list: {error}")
            continue
        for obj in objects:
            change = ResourceChange(action=Action.DELETE, kind=kind.name, key=obj.key,
                                    live_id=obj.id, project=obj.project, live=obj.data)
            try:
                outcome = await apply_change(writer(facade), facade.organization, change,
                                             kind=get_kind(kind.name))
            except Exception as error:  # noqa: BLE001 -- one object that cannot be removed stops nothing
                report.failed.append(f"{change.address}: {type(error).__name__}: {error}")
                continue
            if outcome.status is Status.APPLIED:
                report.deleted.append(change.address)
            else:
                report.failed.append(f"{change.address}: {outcome.detail}")
    log.info("sweep: deleted %d sandboxed objects", len(report.deleted))
    return report
