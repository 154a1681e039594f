"""GitHub's runner interface as the Action's step reads and writes it: outputs that survive
any text, annotations that cannot be cut short, and event payloads read fail-closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dexter_sync.action.body import marker
from dexter_sync.action.runner import (
    ActionError,
    ActionInputs,
    error_annotation,
    pull_request_of,
    write_outputs,
)
from tests.helpers_action import parse_output_file

EVENT = Path(__file__).parent / "data" / "github" / "pull_request_synchronize.json"


def test_outputs_round_trip_through_githubs_file_format(tmp_path: Path) -> None:
    out = tmp_path / "output"
    values = {"summary": "1 to create, 0 to update, 0 to delete",
              "tricky": "line one\nEOF\nname=value\nghadelimiter_x\n", "empty": ""}
    write_outputs({"GITHUB_OUTPUT": str(out)}, values)
    write_outputs({"GITHUB_OUTPUT": str(out)}, {"later": "appended"})
    assert parse_output_file(out) == {**values, "later": "appended"}


def test_outputs_without_a_runner_are_a_clear_error() -> None:
    with pytest.raises(ActionError, match="GITHUB_OUTPUT is not set") as raised:
        write_outputs({}, {"a": "b"})
    assert raised.value.code == "action-environment"


def test_an_annotation_keeps_every_line_in_one_command() -> None:
    line = error_annotation("stale: plan, refused", "100% changed\nsecond line\r")
    assert line == ("::error title=stale%3A plan%2C refused::100%25 changed%0Asecond line%0D")
    assert "\n" not in line


def test_the_pull_request_is_read_from_the_event_payload(tmp_path: Path) -> None:
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(EVENT)}
    pull = pull_request_of(env)
    assert pull is not None
    assert (pull.repository, pull.number, pull.head_sha) == (
        "acme/sentry-config", 42, "4242424242424242424242424242424242424242")
    assert pull_request_of({**env, "GITHUB_EVENT_NAME": "pull_request_target"}) == pull
    assert pull_request_of({**env, "GITHUB_EVENT_NAME": "push"}) is None


@pytest.mark.parametrize("payload", [
    "<html>not json</html>", "[]", json.dumps({"pull_request": {"number": "42"}}),
    json.dumps({"pull_request": {"number": 42}, "repository": {"full_name": "noslash"}}),
])
def test_a_malformed_event_payload_fails_closed(tmp_path: Path, payload: str) -> None:
    event = tmp_path / "event.json"
    event.write_text(payload, encoding="utf-8")
    with pytest.raises(ActionError) as raised:
        pull_request_of({"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)})
    assert raised.value.code == "action-environment"


def test_inputs_fall_back_to_documented_defaults() -> None:
    inputs = ActionInputs.from_env({"INPUT_PLAN_FILE": "  ", "SENTRY_URL": ""})
    assert (inputs.command, inputs.path, inputs.comment, inputs.plan_file,
            inputs.sentry_url) == ("plan", ".", "changes-only", None, "https://sentry.io")
    from_job = ActionInputs.from_env({"SENTRY_URL": "https://sentry.example"})
    assert from_job.sentry_url == "https://sentry.example"
    given = ActionInputs.from_env({"SENTRY_URL": "https://a.example",
                                   "INPUT_SENTRY_URL": "https://b.example"})
    assert given.sentry_url == "https://b.example"


def test_the_marker_cannot_end_its_html_comment_and_ignores_spelling() -> None:
    assert marker("./sentry/") == marker("sentry") == "<!-- dexter-plan path=sentry -->"
    assert marker("we ird-->x", "ac me") == "<!-- dexter-plan path=we_ird-_x org=ac_me -->"
    assert marker("sentry", "acme") != marker("sentry", "other")
