"""Who changed a drifting object and when, from Sentry's organization audit log.

`data.changed_by` / `data.changed_at` of a drift event: the newest audit row whose
`targetObject` is the live object's id (or, for an object deleted out of band, whose data
names it). Null when unknown. An org without the audit log (Sentry answers 403/404: not on
its plan, or the token lacks the scope) is asked once and then left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..sentry.errors import Forbidden, NotFound, SentryError

log = logging.getLogger(__name__)

ReadRows = Callable[[], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Attribution:
    changed_by: str | None = None
    changed_at: str | None = None


UNKNOWN = Attribution()


def _actor_name(actor: Any) -> str | None:
    if not isinstance(actor, dict):
        return None
    for field in ("email", "username", "name"):
        if actor.get(field):
            return str(actor[field])
    return None


def _names_of(row: dict[str, Any]) -> set[str]:
    data = row.get("data")
    if not isinstance(data, dict):
        return set()
    return {str(data[k]) for k in ("name", "label", "version") if data.get(k) is not None}


def find(rows: list[dict[str, Any]], *, live_id: str | None, name: str | None) -> Attribution:
    """The newest row about the object (rows come newest first)."""
    for row in rows:
        target = row.get("targetObject")
        by_id = live_id is not None and target is not None and str(target) == live_id
        by_name = live_id is None and name is not None and name in _names_of(row)
        if by_id or by_name:
            return Attribution(_actor_name(row.get("actor")), row.get("dateCreated"))
    return UNKNOWN


class AuditLog:
    """Reads the audit log at most once per cycle, and only when a cycle has new drift."""

    def __init__(self, read_rows: ReadRows) -> None:
        self._read_rows = read_rows
        self.available = True

    async def rows(self) -> list[dict[str, Any]]:
        if not self.available:
            return []
        try:
            return await self._read_rows()
        except (Forbidden, NotFound) as error:
            self.available = False
            log.warning("the organization audit log is not available (%s); drift events "
                        "will not name who changed objects", error)
            return []
        except SentryError as error:  # attribution is a courtesy: never lose the drift for it
            log.warning("could not read the audit log this cycle: %s", error)
            return []
