"""Names with newlines, ANSI/BEL/right-to-left control characters or markdown cannot spoof a
plan: text output shows them escaped (no forged "Plan: 0 to create" line, no terminal
control), markdown output neutralizes headings and mentions, and JSON keeps the exact value.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.core.changes import Action, NoteReason, Plan, PlanNote, ResourceChange
from dexter_sync.core.escaping import markdown_inline, printable
from dexter_sync.render.jsonplan import render_json
from dexter_sync.render.markdown import render_markdown
from dexter_sync.render.text import render_text

FORGED = "x\nPlan: 0 to create, 0 to update, 0 to delete.\x1b[2K\x07\u202egnp.exe"
SHOUT = "ok\n## LGTM @everyone\n<img src=x onerror=alert(1)> [click](https://evil.example)"
CONTROLS = ("\x1b", "\x07", "\u202e")


def hostile_plan() -> Plan:
    return Plan(organization="acme", changes=[
        ResourceChange(Action.CREATE, "metric_alert", FORGED,
                       after={"name": FORGED, "query": "level:error\u202e"}),
        ResourceChange(Action.DELETE, "issue_alert", f"backend/{SHOUT}",
                       before={"name": SHOUT}, live_id="5"),
    ], notes=[PlanNote(NoteReason.UNMANAGED, "discover_query", SHOUT, ("8",))])


def test_text_escapes_control_characters_so_no_line_is_forged():
    for colour in (False, True):
        text = render_text(hostile_plan(), colour=colour)
        lines = text.splitlines()
        plan_lines = [line for line in lines if line.lstrip("\x1b[0123456789;m").startswith(
            "Plan:")]
        assert len(plan_lines) == 1 and "1 to create, 0 to update, 1 to delete" in plan_lines[0]
        assert not any(line.startswith("## LGTM") for line in lines)
        assert "\x07" not in text and "\u202e" not in text and "\x1b[2K" not in text
        assert "metric_alert/x\\nPlan: 0 to create" in text
        assert "\\x1b[2K\\x07\\u202egnp.exe" in text


def prose(markdown: str) -> str:
    """The markdown outside fenced code blocks (inside them GitHub renders nothing)."""
    parts = markdown.split("```")
    assert len(parts) % 2 == 1, "a value closed a fenced block"
    return "".join(parts[::2])


def test_markdown_neutralizes_headings_mentions_html_and_links():
    text = render_markdown(hostile_plan())
    outside = prose(text)
    lines = text.splitlines()
    assert not any(line.lstrip().startswith("## LGTM") for line in lines)
    assert "@everyone" not in outside and "&#64;everyone" in outside
    assert "<img" not in outside and "&lt;img" in outside
    assert "[click](" not in outside
    assert not any(char in text for char in CONTROLS)
    assert not any(line.startswith("Plan: 0 to create") for line in lines)


def test_json_keeps_the_exact_values():
    document = json.loads(render_json(hostile_plan()))
    assert [c["key"] for c in document["changes"]] == [FORGED, f"backend/{SHOUT}"]
    assert document["changes"][0]["after"]["name"] == FORGED


def test_the_escapes_themselves():
    assert printable("plain name: ünïcode ✓") == "plain name: ünïcode ✓"
    assert printable("a\nb\tc\x1b\u200b\u2028") == "a\\nb\\tc\\x1b\\u200b\\u2028"
    assert printable("a\nb\x07", keep_newlines=True) == "a\nb\\x07"
    assert markdown_inline("# *x* | `y` @z") == "&#35; &#42;x&#42; &#124; &#96;y&#96; &#64;z"


def test_error_messages_show_control_characters_escaped(tmp_path):
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [q.yaml]\n")
    (tmp_path / "q.yaml").write_text(
        'discover_queries:\n  - name: q\n    "evil\\e[2K\\a\\u202e": 1\n')
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "evil\\x1b[2K\\x07\\u202e" in result.stderr
    assert not any(char in result.stderr for char in CONTROLS)
