"""`dexter action`: the step the GitHub Action (action.yml) runs.

Everything comes from the runner's environment (INPUT_* variables that action.yml maps the
inputs to, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, the tokens); see
dexter_sync/action/. Exit code 0 on success (a plan with changes included), else non-zero.
"""

from __future__ import annotations

import click

from ..action.running import environment
from ..action.steps import run_step


@click.command(name="action")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Run the GitHub Action's step (reads INPUT_COMMAND and GitHub's environment)."""
    ctx.exit(run_step(environment()))
