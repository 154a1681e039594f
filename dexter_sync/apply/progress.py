"""Progress while applying: a bar on a terminal, plain log lines otherwise.

Both write to a text stream the CLI hands in (stderr), so stdout stays free for the report
(`--format json`). The clock is injectable so the rate and ETA arithmetic is testable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from ..core.escaping import printable
from .report import ChangeOutcome, Status


class ProgressSink(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, outcome: ChangeOutcome) -> None: ...
    def note(self, message: str) -> None: ...
    def finish(self) -> None: ...


class SilentProgress:
    """For library callers and tests that want only the report."""

    def start(self, total: int) -> None:
        pass

    def advance(self, outcome: ChangeOutcome) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class _Counter:
    clock: Callable[[], float] = time.monotonic
    total: int = 0
    done: int = 0
    started: float = 0.0

    def begin(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        return (self.total - self.done) / rate if rate > 0 else None


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = round(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


@dataclass
class LineProgress:
    """One line per finished change: `[12/500] applied create metric_alert/cpu`."""

    stream: TextIO
    clock: Callable[[], float] = time.monotonic
    _counter: _Counter = field(init=False)

    def __post_init__(self) -> None:
        self._counter = _Counter(self.clock)

    def start(self, total: int) -> None:
        self._counter.begin(total)
        self.stream.write(f"applying {total} change{'s' if total != 1 else ''}\n")
        self.stream.flush()

    def advance(self, outcome: ChangeOutcome) -> None:
        c = self._counter
        c.done += 1
        change = outcome.change
        text = f"[{c.done}/{c.total}] {outcome.status} {change.action} {change.address}"
        if outcome.detail:
            text += f": {outcome.detail}"
        self.stream.write(printable(text) + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        self.stream.write(printable(message) + "\n")
        self.stream.flush()

    def finish(self) -> None:
        pass


@dataclass
class BarProgress:
    """A one-line bar redrawn in place: `[#####-----] 120/500  35.2/s  ETA 00:11  2 failed`."""

    stream: TextIO
    clock: Callable[[], float] = time.monotonic
    width: int = 30
    min_interval: float = 0.1
    """Redraw at most this often (seconds): thousands of fast changes must not flood the tty."""
    _counter: _Counter = field(init=False)
    _failed: int = 0
    _last_draw: float = float("-inf")

    def __post_init__(self) -> None:
        self._counter = _Counter(self.clock)

    def line(self) -> str:
        c = self._counter
        filled = int(self.width * c.done / c.total) if c.total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        text = f"[{bar}] {c.done}/{c.total}  {c.rate():.1f}/s  ETA {format_eta(c.eta())}"
        return text + (f"  {self._failed} failed" if self._failed else "")

    def _draw(self, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()

    def start(self, total: int) -> None:
        self._counter.begin(total)
        self._draw(force=True)

    def advance(self, outcome: ChangeOutcome) -> None:
        self._counter.done += 1
        if outcome.status is Status.FAILED:
            self._failed += 1
        self._draw(force=self._counter.done == self._counter.total)

    def note(self, message: str) -> None:
        # Print above the bar, then redraw it.
        self.stream.write("\r\x1b[2K" + printable(message) + "\n")
        self._draw(force=True)

    def finish(self) -> None:
        self._draw(force=True)
        self.stream.write("\n")
        self.stream.flush()


def progress_for(stream: TextIO, *, interactive: bool) -> ProgressSink:
    return BarProgress(stream) if interactive else LineProgress(stream)
