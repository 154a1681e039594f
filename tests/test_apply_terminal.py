"""`dexter apply` on a real terminal (a pseudo-terminal): it shows the plan, asks before any
write, draws a progress bar (done/total, rate, ETA), and "no" changes nothing."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.test_apply_support import live_names, write_manifests

DEXTER = str(Path(sys.executable).with_name("dexter"))


def run_on_terminal(emu, manifests: Path, answer: str) -> tuple[int, str]:
    """Run `dexter apply` with stdin/stdout/stderr on a pty; answer the prompt."""
    main, child = pty.openpty()
    env = {**os.environ, "SENTRY_AUTH_TOKEN": emu.token, "NO_COLOR": "1", "COLUMNS": "120"}
    proc = subprocess.Popen([DEXTER, "apply", str(manifests), "--sentry-url", emu.url],
                            stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    seen, answered = b"", False
    deadline = time.monotonic() + 60
    try:
        # Read until the terminal reports end of file (EIO once the child has exited and
        # every byte it wrote was read), so the last redraw of the bar is never missed.
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and b"? [y/N]" in seen:
                os.write(main, answer.encode() + b"\n")
                answered = True
        return proc.wait(timeout=10), seen.decode(errors="replace")
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_terminal_apply_asks_then_shows_a_progress_bar(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=5)
    code, screen = run_on_terminal(emu, manifests, "y")
    assert code == 0, screen
    assert "+ create discover_query/q-0000" in screen
    assert "Apply these 5 changes to acme? [y/N]" in screen
    assert "] 5/5" in screen and "/s  ETA" in screen
    assert sorted(live_names(emu)) == [f"q-{i:04d}" for i in range(5)]


def test_terminal_apply_answered_no_changes_nothing(emu, tmp_path):
    manifests = write_manifests(tmp_path / "m", queries=1)
    code, screen = run_on_terminal(emu, manifests, "n")
    assert "Apply this 1 change to acme? [y/N]" in screen
    assert code == 1, screen
    assert "apply cancelled" in screen
    assert sum(live_names(emu).values()) == 0
