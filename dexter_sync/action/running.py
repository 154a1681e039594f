"""Runs the `dexter` command for a step, the way a user would, and reads its answer.

The Action relies on the documented exit codes only (README, Stable interfaces): 0 done or
no changes, 1 error, 2 changes present (`--detailed-exitcode`), 3 apply incomplete. Output
is captured, passed to the job log with every secret masked, and the error's `[code]` is
picked out so a stale plan fails the job with its own title.

The child gets the job's environment less the GitHub token: manifests may read `env` in
templates, and a token rendered into a plan would end up in the pull-request comment.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .masking import redact

KEPT_FROM_DEXTER = ("GITHUB_TOKEN", "GH_TOKEN")
TIMEOUT_SECONDS = 3600
_CODE = re.compile(r"\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]")


@dataclass(frozen=True)
class Finished:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_code(self) -> str | None:
        """The `[code]` of the error dexter reported (its last line starting `error:`)."""
        for line in reversed(self.stderr.splitlines()):
            if line.startswith("error:"):
                found = _CODE.findall(line)
                return found[-1] if found else "error"
        return None

    @property
    def error_text(self) -> str:
        lines = self.stderr.strip().splitlines()
        for index, line in enumerate(lines):
            if line.startswith(("error:", "internal error:")):
                return "\n".join(lines[index:])
        return "\n".join(lines[-20:]) or f"dexter exited {self.exit_code}"


def run_dexter(args: Sequence[str], env: Mapping[str, str], *,
               echo_stdout: bool = True) -> Finished:
    """`dexter ARGS` with this installation's Python; output masked and echoed to the log."""
    child_env = {k: v for k, v in env.items() if k not in KEPT_FROM_DEXTER}
    child_env.setdefault("NO_COLOR", "1")
    done = subprocess.run([sys.executable, "-m", "dexter_sync.cli", *args], env=child_env,
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                          check=False, stdin=subprocess.DEVNULL)
    stdout, stderr = redact(done.stdout), redact(done.stderr)
    if echo_stdout and stdout:
        sys.stdout.write(stdout if stdout.endswith("\n") else stdout + "\n")
    if stderr:
        sys.stderr.write(stderr if stderr.endswith("\n") else stderr + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return Finished(done.returncode, stdout, stderr)


def environment() -> dict[str, str]:
    return dict(os.environ)
