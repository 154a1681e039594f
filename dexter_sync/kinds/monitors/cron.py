"""The `cron_monitor` kind: a `monitor_check_in_failure` detector (`type: cron` in
`monitors`, REFERENCE-workflows.md §2.9). `schedule` is a crontab line or an interval
(`30m`, `2h`, `1d`, `1w`, or Sentry's `[n, unit]`); margins and run times are durations
sent in minutes. The config keys are sent snake_case, as Sentry's monitor API takes them.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, StrictInt, StrictStr, model_validator

from ...core.directory import Directory
from ..fields import Duration, Minutes, format_duration, snakify
from ..registry import register
from .common import (
    MonitorFields,
    MonitorKind,
    common_canonical,
    common_from_live,
    common_payload,
    data_source,
    first_source,
)

UNITS = ("year", "month", "week", "day", "hour", "minute")
_INTERVAL = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_OF = {"m": "minute", "h": "hour", "d": "day", "w": "week"}
_ABBREV = {v: k for k, v in _UNIT_OF.items()}


def schedule_form(value: str | list[Any]) -> tuple[str, Any]:
    """(schedule_type, schedule) as Sentry takes them."""
    if isinstance(value, list):
        if len(value) != 2 or not isinstance(value[0], int) or value[0] < 1 \
                or value[1] not in UNITS:
            raise ValueError(f"an interval schedule is [n, unit] with unit one of "
                             f"{', '.join(UNITS)}, got {value!r}")
        return "interval", [value[0], value[1]]
    match = _INTERVAL.match(value)
    if match:
        return "interval", [int(match.group(1)), _UNIT_OF[match.group(2)]]
    if len(value.split()) != 5:
        raise ValueError(f"schedule must be a crontab line (5 fields) or an interval such "
                         f"as 30m, 2h, 1d, got {value!r}")
    return "crontab", " ".join(value.split())


def schedule_friendly(kind: str | None, schedule: Any) -> str | list[Any]:
    if kind == "interval" and isinstance(schedule, list) and len(schedule) == 2 \
            and schedule[1] in _ABBREV:
        return f"{schedule[0]}{_ABBREV[schedule[1]]}"
    return schedule if isinstance(schedule, (str, list)) else str(schedule)


class CronMonitorEntry(MonitorFields):
    """A cron monitor (`monitor_check_in_failure` detector; natural key: name)."""

    schedule: StrictStr | list[StrictInt | StrictStr] = Field(
        description="Crontab line (`0 3 * * *`) or interval (`30m`, `2h`, `[1, month]`).")
    checkin_margin: Duration | None = Field(
        None, description="Grace period for a late check-in (1m..28d, sent in minutes).")
    max_runtime: Duration | None = Field(
        None, description="How long a job may run (1m..28d, sent in minutes).")
    timezone: str = Field("UTC", description="IANA timezone of a crontab schedule.")
    failure_issue_threshold: StrictInt = Field(1, ge=1, le=720)
    recovery_threshold: StrictInt = Field(1, ge=1, le=720)

    @classmethod
    def fields_from_sentry(cls, given: dict[str, Any]) -> dict[str, Any]:
        source = first_source(given)
        return live_fields({"dataSources": [{"queryObj": {
            "config": snakify(source.get("config") or {})}}]})

    @model_validator(mode="after")
    def _rules(self) -> CronMonitorEntry:
        schedule_form(self.schedule)
        for name in ("checkin_margin", "max_runtime"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 40320:
                raise ValueError(f"{name} must be between 1m and 28d, "
                                 f"got {format_duration(value)}")
        return self


def _minutes(value: float | None) -> int | None:
    return None if value is None else round(value)


def build_payload(entry: CronMonitorEntry, directory: Directory) -> dict[str, Any]:
    kind, schedule = schedule_form(entry.schedule)
    body = common_payload(entry, "monitor_check_in_failure", directory)
    body["dataSources"] = [{"name": entry.name, "config": {
        "schedule_type": kind, "schedule": schedule,
        "checkin_margin": _minutes(entry.checkin_margin),
        "max_runtime": _minutes(entry.max_runtime), "timezone": entry.timezone,
        "failure_issue_threshold": entry.failure_issue_threshold,
        "recovery_threshold": entry.recovery_threshold}}]
    return body


def canonical(entry: CronMonitorEntry, directory: Directory) -> dict[str, Any]:
    kind, schedule = schedule_form(entry.schedule)
    out = common_canonical(entry, directory)
    out.update(schedule=schedule_friendly(kind, schedule), timezone=entry.timezone,
               checkin_margin=None if entry.checkin_margin is None
               else Minutes(entry.checkin_margin),
               max_runtime=None if entry.max_runtime is None
               else Minutes(entry.max_runtime),
               failure_issue_threshold=entry.failure_issue_threshold,
               recovery_threshold=entry.recovery_threshold)
    return out


def entry_from_live(data: dict[str, Any], directory: Directory) -> CronMonitorEntry:
    return CronMonitorEntry.model_validate({**common_from_live(data, directory),
                                            **live_fields(data)})


def live_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The cron fields of a detector response (its config keys are snake_case)."""
    config = data_source(data).get("config") or {}
    entry: dict[str, Any] = {}
    entry["schedule"] = schedule_friendly(config.get("schedule_type"), config.get("schedule"))
    for key in ("checkin_margin", "max_runtime"):
        if config.get(key):
            entry[key] = format_duration(float(config[key]))
    if config.get("timezone") not in (None, "UTC"):
        entry["timezone"] = config["timezone"]
    for key in ("failure_issue_threshold", "recovery_threshold"):
        if config.get(key) not in (None, 1):
            entry[key] = config[key]
    return entry


class CronMonitorKind(MonitorKind[CronMonitorEntry]):
    name = "cron_monitor"
    type_tag = "cron"
    entry_model = CronMonitorEntry
    title = "Cron monitor (`monitor_check_in_failure` detector, /detectors/): check-ins."
    detector_type = "monitor_check_in_failure"
    query_alias = "cron"
    payload_of = staticmethod(build_payload)
    canonical_of = staticmethod(canonical)
    entry_of = staticmethod(entry_from_live)

register(CronMonitorKind())
