"""An alert's recent history, behind `dexter inspect alert NAME`:

- a metric alert's incidents and their status changes
  (`organizations/{org}/incidents/?alertRule=ID&expand=activities`, REFERENCE.md §12);
- an issue alert's firings per issue
  (`projects/{org}/{project}/rules/{id}/group-history/`).

The alert is found by name among the live rules (one listing per kind, through the facade).
Answers are checked (fail closed); an endpoint this Sentry does not serve (404) is reported
as missing rather than as "no history".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.diagnostics import DexterError, did_you_mean
from ..core.requests import ApiRequest, path_segment
from ..core.state import LiveObject
from .answers import UnexpectedAnswer
from .errors import NotFound
from .facade import SentryFacade

INCIDENT_STATUS = {1: "open", 2: "resolved", 10: "warning", 20: "critical"}
ACTIVITY_TYPES = {1: "created", 2: "status change", 3: "comment", 4: "detected"}


@dataclass
class AlertHistory:
    kind: str  # "metric_alert" or "issue_alert"
    name: str
    rule_id: str
    project: str | None
    period: str
    incidents: list[dict[str, Any]] = field(default_factory=list)
    firings: list[dict[str, Any]] = field(default_factory=list)
    missing: str | None = None
    """The history endpoint this Sentry does not serve, if any."""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "id": self.rule_id,
                "project": self.project, "period": self.period, "incidents": self.incidents,
                "firings": self.firings, "missing": self.missing}


async def find_alert(facade: SentryFacade, name: str, *, project: str | None = None
                     ) -> LiveObject:
    """The live metric or issue alert called `name` (in `project`, when given)."""
    live = await facade.read_state(["metric_alert", "issue_alert"],
                                   projects=[project] if project else None)
    found = [o for kind in ("metric_alert", "issue_alert") for o in live.of_kind(kind)
             if o.data.get("name") == name and (project is None or o.kind == "metric_alert"
                                                or o.project == project)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        where = ", ".join(f"{o.kind} {o.project or ''}/{o.id}".replace(" /", " ") for o in found)
        raise DexterError(f"{len(found)} alerts are called {name!r} ({where}); pass --project",
                          code="unknown-alert")
    names = [str(o.data.get("name")) for kind in ("metric_alert", "issue_alert")
             for o in live.of_kind(kind)]
    hint = did_you_mean(name, names)
    raise DexterError(f"no metric or issue alert called {name!r}" + (f" ({hint})" if hint else ""),
                      code="unknown-alert")


def _list_of_objects(body: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        raise UnexpectedAnswer(f"Sentry answered the {what} with {type(body).__name__}, not "
                               "the documented list")
    return body


async def _all_pages(facade: SentryFacade, request: ApiRequest, what: str
                     ) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    async for page in facade.gateway.pages(request):
        items += _list_of_objects(page.body, what)
    return items


async def alert_history(facade: SentryFacade, alert: LiveObject, *, period: str = "14d"
                        ) -> AlertHistory:
    """The incidents (metric alert) or firings per issue (issue alert) of `alert`."""
    org = path_segment(facade.organization)
    history = AlertHistory(alert.kind, str(alert.data.get("name")), alert.id, alert.project,
                           period)
    try:
        if alert.kind == "metric_alert":
            history.incidents = await _all_pages(facade, ApiRequest(
                "GET", f"organizations/{org}/incidents/",
                params={"alertRule": alert.id, "expand": "activities",
                        "statsPeriod": period}), "incident list")
        else:
            history.firings = await _all_pages(facade, ApiRequest(
                "GET", f"projects/{org}/{path_segment(alert.project or '')}/rules/"
                       f"{path_segment(alert.id)}/group-history/",
                params={"statsPeriod": period}), "rule group history")
    except NotFound as error:
        history.missing = error.path
    return history


def render_history(history: AlertHistory) -> str:
    """The text view (pure)."""
    where = f"{history.project}, " if history.project else ""
    title = (f"{history.kind.replace('_', ' ')} {history.name!r} ({where}id {history.rule_id})")
    if history.missing:
        return f"{title}\n  (this Sentry does not serve {history.missing})"
    if history.kind == "issue_alert":
        total = sum(int(f.get("count") or 0) for f in history.firings)
        lines = [(f"{title}: fired {total} time{'s' if total != 1 else ''} for "
                 f"{len(history.firings)} issue{'s' if len(history.firings) != 1 else ''} "
                 f"in the last {history.period}")]
        for firing in history.firings:
            group = firing.get("group") or {}
            lines.append(f"  {group.get('shortId', '?')}  {firing.get('count')} firing"
                         f"{'s' if firing.get('count') != 1 else ''}  last "
                         f"{firing.get('lastTriggered')}  {group.get('title', '')}")
        return "\n".join(lines)
    lines = [(f"{title}: {len(history.incidents)} incident"
             f"{'s' if len(history.incidents) != 1 else ''} in the last {history.period}")]
    for incident in history.incidents:
        status = _status(incident.get("status"))
        lines.append(f"  #{incident.get('identifier')}  {status}  started "
                     f"{incident.get('dateStarted')}  closed {incident.get('dateClosed') or '-'}"
                     f"  {incident.get('title', '')}")
        for activity in incident.get("activities") or []:
            kind = ACTIVITY_TYPES.get(activity.get("type"), str(activity.get("type")))
            change = ""
            if activity.get("value") is not None:
                before = activity.get("previousValue")
                change = (f" {_status(before) if before is not None else '-'} -> "
                          f"{_status(activity.get('value'))}")
            lines.append(f"      {activity.get('dateCreated')}  {kind}{change}")
    return "\n".join(lines)


def _status(value: Any) -> str:
    """An incident status (1, "20", ...) by name; anything else as given."""
    try:
        return INCIDENT_STATUS.get(int(value), str(value))
    except (TypeError, ValueError):
        return str(value)
