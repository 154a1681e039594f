"""The safe cut-over from auto-migrated twins to dexter's own alerts and monitors
(REFERENCE-workflows.md §4.3), in three waves, so no rule fires twice and none goes
silent:

  create   the new monitors and alerts, disabled (the twin keeps firing)
  switch   enable the new objects, then disable the twins, in one wave
  retire   delete the twins (run later, once the new alerts are trusted)

Where a rule stands is read from Sentry each time (a workflow with a legacy mapping row is
the twin, one without is dexter's), so the waves can run in separate invocations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.diagnostics import DexterError
from ..core.directory import Directory
from ..core.requests import ApiRequest, path_segment
from ..kinds.alerts.kind import AlertEntry
from ..kinds.alerts.kind import build_payload as alert_payload
from ..kinds.monitors.metric import MetricMonitorEntry
from ..kinds.monitors.metric import build_payload as monitor_payload
from ..sentry.errors import NotFound
from .convert import Converted

WAVES = ("create", "switch", "retire")


@dataclass
class RuleState:
    """One migrated rule in Sentry: its twin (Sentry's migration) and dexter's new objects."""

    name: str
    monitor: str | None = None
    """Name of the metric monitor the rule needs (metric alert rules)."""
    twins: list[dict[str, Any]] = field(default_factory=list)
    twin_detectors: list[dict[str, Any]] = field(default_factory=list)
    new: dict[str, Any] | None = None
    new_detector: dict[str, Any] | None = None

    def stage(self) -> str:
        """The next wave this rule needs (`done` when none)."""
        if self.new is None or (self.monitor and self.new_detector is None):
            return "create"
        if any(t.get("enabled", True) for t in self.twins + self.twin_detectors) \
                or not self.new.get("enabled"):
            return "switch"
        return "retire" if self.twins or self.twin_detectors else "done"


Facade = Any
AfterWave = Callable[[str], Awaitable[None] | None]


async def inventory(facade: Facade, organization: str, converted: Converted
                    ) -> tuple[dict[str, RuleState], Directory]:
    """Each converted rule's twin and new objects, read from Sentry."""
    live = await facade.read_state(["alert", "metric_monitor"])
    states = {a["name"]: RuleState(a["name"], monitor=(a.get("monitors") or [None])[0]
                                   if a["name"] in {m["name"] for m in converted.monitors}
                                   else None)
              for a in converted.alerts}
    org = f"organizations/{path_segment(organization)}"
    for obj in live.of_kind("alert"):
        state = states.get(obj.key)
        if state is None:
            continue
        try:
            await facade.send(ApiRequest("GET", f"{org}/alert-rule-workflow/",
                                         params={"workflow_id": obj.id}))
        except NotFound:
            state.new = obj.data
        else:
            state.twins.append(obj.data)
    for obj in live.of_kind("metric_monitor"):
        state = states.get(obj.key)
        if state is None:
            continue
        if obj.data.get("alertRuleId") is not None or obj.data.get("ruleId") is not None:
            state.twin_detectors.append(obj.data)
        else:
            state.new_detector = obj.data
    return states, live.directory


async def run_cutover(facade: Facade, organization: str, converted: Converted, *,
                      through: str = "switch", after_wave: AfterWave | None = None
                      ) -> list[str]:
    """Run the waves up to `through`; returns one line per wave run."""
    done: list[str] = []
    for wave in WAVES[:WAVES.index(through) + 1]:
        states, directory = await inventory(facade, organization, converted)
        line = await _WAVES[wave](facade, organization, converted, states, directory)
        done.append(line)
        if after_wave is not None:
            result = after_wave(wave)
            if result is not None:
                await result
    return done


async def _create(facade: Facade, organization: str, converted: Converted,
                  states: dict[str, RuleState], directory: Directory) -> str:
    org = f"organizations/{path_segment(organization)}"
    created = 0
    new_ids: dict[str, str] = {}
    for monitor in converted.monitors:
        state = states[monitor["name"]]
        if state.new_detector is not None:
            new_ids[monitor["name"]] = str(state.new_detector["id"])
            continue
        wanted = MetricMonitorEntry.model_validate(
            {**{k: v for k, v in monitor.items() if k != "type"}, "enabled": False})
        body = monitor_payload(wanted, directory)
        response = await facade.send(ApiRequest(
            "POST", f"{org}/projects/{path_segment(wanted.project)}/detectors/", json=body))
        new_ids[monitor["name"]] = str(response.body["id"])
        created += 1
    for alert in converted.alerts:
        state = states[alert["name"]]
        if state.new is not None:
            continue
        entry = AlertEntry.model_validate({**alert, "enabled": False})
        body = alert_payload(entry, directory)
        body["detectorIds"] = [new_ids.get(name) or _known(directory, name)
                               for name in entry.monitors] + \
            [i for i in body["detectorIds"][len(entry.monitors):]]
        await facade.send(ApiRequest("POST", f"{org}/workflows/", json=body))
        created += 1
    return f"create: {created} new objects created disabled"


def _known(directory: Directory, name: str) -> str:
    found = directory.detector_id(name)
    if found is None:
        raise DexterError(f"monitor {name!r} is not in Sentry", code="migration-blocked")
    return found


async def _switch(facade: Facade, organization: str, converted: Converted,
                  states: dict[str, RuleState], directory: Directory) -> str:
    blocked = [s.name for s in states.values() if s.stage() == "create"]
    orphans = [s.name for s in states.values() if not s.twins and s.stage() == "switch"]
    if blocked:
        raise DexterError(f"cannot switch: no new alert yet for {', '.join(sorted(blocked))} "
                          "(run the create wave first)", code="migration-blocked")
    if orphans:
        raise DexterError(f"cannot switch: {', '.join(sorted(orphans))} has no auto-migrated "
                          "twin (Sentry has not migrated it); enabling the new alert would "
                          "fire next to the legacy rule", code="migration-blocked")
    switching = [s for s in states.values() if s.stage() == "switch"]
    org = f"organizations/{path_segment(organization)}"
    # enable first, then disable: the moment between is a double notification at worst,
    # never a silent one
    for path, objects, enabled in (
            ("detectors", [s.new_detector for s in switching if s.new_detector], True),
            ("workflows", [s.new for s in switching if s.new], True),
            ("detectors", [t for s in switching for t in s.twin_detectors], False),
            ("workflows", [t for s in switching for t in s.twins], False)):
        ids = [str(o["id"]) for o in objects if o is not None]
        if ids:
            await facade.send(ApiRequest("PUT", f"{org}/{path}/", params={"id": ids},
                                         json={"enabled": enabled}))
    return f"switch: {len(switching)} rules now served by their new alerts"


async def _retire(facade: Facade, organization: str, converted: Converted,
                  states: dict[str, RuleState], directory: Directory) -> str:
    early = [s.name for s in states.values() if s.stage() in ("create", "switch")]
    if early:
        raise DexterError(f"cannot retire the twins of {', '.join(sorted(early))}: their new "
                          "alerts are not serving yet (run the switch wave first)",
                          code="migration-blocked")
    org = f"organizations/{path_segment(organization)}"
    deleted = 0
    for state in states.values():
        for path, objects in (("workflows", state.twins), ("detectors", state.twin_detectors)):
            for obj in objects:
                try:
                    await facade.send(ApiRequest("DELETE", f"{org}/{path}/{obj['id']}/"))
                except NotFound:
                    pass  # already gone
                deleted += 1
    return f"retire: {deleted} twins deleted"


_WAVES = {"create": _create, "switch": _switch, "retire": _retire}
