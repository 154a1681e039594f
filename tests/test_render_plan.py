"""Plan rendering: text (+/~/-, colour only when asked), markdown under GitHub's comment
limit, the stable JSON shape, and redaction of sensitive values in every format."""

from __future__ import annotations

import io
import json

from dexter_sync.core.changes import (
    Action,
    FieldChange,
    NoteReason,
    Plan,
    PlanNote,
    ResourceChange,
    SafetyFinding,
)
from dexter_sync.core.sources import SourceSpan
from dexter_sync.render.jsonplan import render_json
from dexter_sync.render.markdown import COMMENT_LIMIT, render_markdown
from dexter_sync.render.text import render_text, use_colour


def sample_plan() -> Plan:
    return Plan(
        organization="acme",
        changes=[
            ResourceChange(Action.CREATE, "metric_alert", "New", after={"name": "New"},
                           span=SourceSpan("rules.yaml", 3)),
            ResourceChange(
                Action.UPDATE, "metric_alert", "Errors",
                before={"threshold": 100, "token": "s3cr3t-value"},
                after={"threshold": 90, "token": "s3cr3t-value"},
                diff=(FieldChange(("triggers", "critical", "threshold"), 100, 90,
                                  span=SourceSpan("rules.yaml", 12, 13)),),
                span=SourceSpan("rules.yaml", 9)),
            ResourceChange(Action.DELETE, "issue_alert", "backend/Old", before={"name": "Old"},
                           live_id="5"),
        ],
        notes=[PlanNote(NoteReason.UNMANAGED, "metric_alert", "Stray", ("8",))],
        unchanged=4,
        safety=[SafetyFinding("no-action", "metric_alert", "metric_alert/New: no action",
                              key="New")],
        cosmetic={"order": 2, "type": 1},
        cosmetic_details=["metric_alert/Errors projects: order"],
    )


def test_text_shows_symbols_diffs_positions_and_summary():
    text = render_text(sample_plan())
    assert "+ create metric_alert/New  (rules.yaml:3:1)" in text
    assert "~ update metric_alert/Errors" in text
    assert "triggers.critical.threshold: 100 -> 90  (rules.yaml:12:13)" in text
    assert "- delete issue_alert/backend/Old" in text
    assert "unmanaged metric_alert/Stray" in text
    assert "needs --force" in text and "[no-action]" in text
    assert "Plan: 1 to create, 1 to update, 1 to delete, 4 unchanged, 1 unmanaged." in text
    assert "cosmetic" not in text  # the tally only with -v or --explain
    assert text.count("Plan:") == 1
    assert ("Plan: 1 to create, 1 to update, 1 to delete, 4 unchanged, 1 unmanaged "
            "(3 cosmetic differences suppressed: order 2, type 1).") in render_text(
                sample_plan(), verbose=True)
    assert "\x1b[" not in text
    assert "metric_alert/Errors projects: order" not in text
    assert "metric_alert/Errors projects: order" in render_text(sample_plan(), explain=True)


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())
    assert "\x1b[" in render_text(sample_plan(), colour=True)


def test_json_has_the_stable_shape():
    document = json.loads(render_json(sample_plan()))
    assert document["format_version"] == 1 and document["organization"] == "acme"
    assert document["summary"] == {"create": 1, "update": 1, "delete": 1, "unchanged": 4,
                                   "unmanaged": 1, "ambiguous": 0}
    update = document["changes"][1]
    assert {k: update[k] for k in ("action", "kind", "key")} == {
        "action": "update", "kind": "metric_alert", "key": "Errors"}
    assert update["diff"][0]["path"] == "triggers.critical.threshold"
    assert (update["diff"][0]["before"], update["diff"][0]["after"]) == (100, 90)
    for change in document["changes"]:
        assert set(change) >= {"action", "kind", "key", "before", "after", "diff"}
    assert document["changes"][0]["before"] is None and document["changes"][2]["after"] is None


def test_sensitive_values_are_masked_in_every_format():
    plan = sample_plan()
    for text in (render_text(plan), render_markdown(plan), render_json(plan)):
        assert "s3cr3t-value" not in text
    assert "(sensitive)" in render_json(plan)


def test_markdown_has_a_table_and_details_per_change():
    text = render_markdown(sample_plan())
    assert "| metric_alert | 1 | 1 | 0 |" in text
    assert text.count("<details>") == 3 + 1  # three changes and the notes
    assert "- triggers.critical.threshold: 100\n+ triggers.critical.threshold: 90" in text


def test_markdown_of_5000_changes_stays_under_the_comment_limit():
    changes = [
        ResourceChange(Action.UPDATE, "issue_alert", f"backend/rule {i:05d}",
                       before={"frequency": 30}, after={"frequency": 60},
                       diff=(FieldChange(("frequency",), 30, 60),))
        for i in range(5000)
    ]
    plan = Plan(organization="acme", changes=changes)
    text = render_markdown(plan)
    assert len(text) < COMMENT_LIMIT
    shown = text.count("<details>")
    assert 100 < shown < 5000
    assert f"**{5000 - shown} more changes not shown**" in text
    assert f"{5000 - shown} to update" in text
    assert "| **total** | **0** | **5000** |" in text


def test_long_nested_values_of_a_create_read_as_yaml_blocks():
    triggers = {"critical": {"threshold": 100, "actions": [
        {"slack": {"channel": "#alerts", "workspace": "acme-slack"}},
        {"email": {"team": "backend-team"}}]}}
    plan = Plan(organization="acme", changes=[ResourceChange(
        Action.CREATE, "metric_alert", "New", after={"name": "New", "triggers": triggers})])
    text = render_text(plan)
    assert ('    + name: New\n    + triggers:\n        critical:\n'
            '          threshold: 100\n') in text
    markdown = render_markdown(plan)
    assert "+ triggers:\n+   critical:\n+     threshold: 100\n" in markdown


def test_a_quiet_plan_is_one_line_and_the_cosmetic_tally_needs_asking():
    plan = Plan(organization="acme", unchanged=32, cosmetic={"order": 3, "type": 30})
    assert render_text(plan) == "No changes. acme matches the manifests (32 unchanged).\n"
    assert render_text(plan, verbose=True) == (
        "No changes. acme matches the manifests (32 unchanged; 33 cosmetic differences "
        "suppressed: order 3, type 30).\n")


def test_values_read_as_the_manifests_write_them():
    plan = Plan(organization="acme", changes=[
        ResourceChange(Action.UPDATE, "issue_alert", "backend/Errors",
                       before={"actions": [{"email": {"team": "backend"}}], "owner": "80"},
                       after={"actions": [{"slack": {"channel": "#sre"}}], "owner": 80},
                       diff=(FieldChange(("actions",), [{"email": {"team": "backend"}}],
                                         [{"slack": {"channel": "#sre"}}]),
                             FieldChange(("owner",), "80", 80))),
        ResourceChange(Action.CREATE, "metric_alert", "New",
                       after={"name": "New", "projects": ["backend"], "query": ""})])
    text = render_text(plan)
    assert "~ actions: [{email: {team: backend}}] -> [{slack: {channel: '#sre'}}]" in text
    assert "~ owner: '80' -> 80" in text  # a string and a number still read differently
    assert "    + name: New\n    + projects: [backend]\n    + query: ''\n" in text


def test_control_characters_in_values_cannot_spoof_the_plan():
    name = "x\n\nPlan: 0 to create, 0 to update, 0 to delete.\x1b[2K\x07\u202egnp"
    plan = Plan(organization="acme", changes=[
        ResourceChange(Action.CREATE, "metric_alert", "New", after={"name": name})])
    text = render_text(plan)
    assert ('    + name: "x\\n\\nPlan: 0 to create, 0 to update, 0 to delete.\\e[2K\\a'
            '\\u202egnp"') in text
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert [line for line in text.splitlines() if line.startswith("Plan:")] == [
        "Plan: 1 to create, 0 to update, 0 to delete, 0 unchanged."]
