"""Durations in the comparison form: numbers of minutes, shown in their friendly spelling.

A manifest writes `5m`, `1h` or `90s`; Sentry answers minutes. Both are read once into
`Minutes`, which compares (and hashes, and writes to JSON) as its number, so `5m`, `5` and
`5.0` are one value; plans and messages show it as `5m` (render/view.py formats it).
"""

from __future__ import annotations


def format_duration(minutes: float) -> str:
    """The shortest friendly spelling of a number of minutes: 60 -> '1h', 90 -> '90m'."""
    seconds = round(minutes * 60)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Minutes(float):
    """A duration as a number of minutes (a float: equal to 5 and 5.0) that shows as `5m`."""

    __slots__ = ()

    def __str__(self) -> str:
        return format_duration(self)

    __repr__ = __str__
