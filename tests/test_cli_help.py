"""`dexter --help` shows only what exists: every verb its summary line names is a command."""

from __future__ import annotations

import re

from click.testing import CliRunner

from dexter_sync.cli.main import cli


def test_help_names_only_commands_that_exist() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    summary = result.output.split("\n\n")[1]
    named = re.search(r"\(([^)]*)\)", summary)
    assert named is not None, summary
    verbs = [v.strip() for v in named.group(1).split(",")]
    assert verbs and set(verbs) <= set(cli.commands), (verbs, sorted(cli.commands))
    listed = re.findall(r"^  (\w+)\s", result.output.split("Commands:")[1], re.MULTILINE)
    assert listed == sorted(cli.commands)
