"""`dexter --help` shows only what exists: every verb its summary names, and every command it
lists, is a command that runs."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from dexter_sync.cli.main import VERBS, cli


def _runs(name: str) -> bool:
    with click.Context(cli) as ctx:
        return cli.get_command(ctx, name) is not None


def test_help_names_only_commands_that_exist() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1]
    named = re.search(r"\(([^)]*)\)", summary)
    assert named is not None, summary
    verbs = [v.strip() for v in named.group(1).split(",")]
    assert verbs, summary
    assert [v for v in verbs if not _runs(v)] == []
    listed = re.findall(r"^  (\w+)\s", result.output.split("Commands:")[1], re.MULTILINE)
    assert listed == list(VERBS)
    assert [v for v in listed if not _runs(v)] == []
