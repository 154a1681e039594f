"""YAML with positions: line:column of keys and values, and every unsafe or broken input
refused with one clear diagnostic (duplicate keys, tabs, tags, alias bombs, encodings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dexter_sync.manifest.reading import MAX_FILE_BYTES, read_manifest_text
from dexter_sync.manifest.yamlparsing import MAX_ALIAS_EXPANSION, parse_yaml


def test_values_keep_their_key_and_value_positions() -> None:
    text = "metric_alerts:\n  - name: High\n    triggers:\n      critical: {threshold: 5}\n"
    document, problems = parse_yaml(text, "a.yaml")
    assert problems == []
    assert document.data == {"metric_alerts": [{"name": "High",
                                                "triggers": {"critical": {"threshold": 5}}}]}
    name = document.spans[("metric_alerts", 0, "name")]
    assert (name.key.line, name.key.column) == (2, 5)
    assert (name.value.line, name.value.column) == (2, 11)
    threshold = document.spans[("metric_alerts", 0, "triggers", "critical", "threshold")]
    assert (threshold.value.line, threshold.value.column) == (4, 29)
    # an unknown deeper path falls back to its longest known prefix
    assert document.span(("metric_alerts", 0, "triggers", "nope")).line == 3


def test_scalars_resolve_like_yaml_but_keys_stay_text_and_dates_stay_text() -> None:
    document, problems = parse_yaml("on: yes\n1: 2.5\nwhen: 2024-01-02\nn: ~\n", "a.yaml")
    assert problems == []
    assert document.data == {"on": True, "1": 2.5, "when": "2024-01-02", "n": None}


def test_empty_file_is_an_empty_mapping() -> None:
    document, problems = parse_yaml("# nothing\n", "a.yaml")
    assert problems == [] and document.data == {}


def test_duplicate_keys_are_reported_with_both_places() -> None:
    _, problems = parse_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    assert [p.code for p in problems] == ["duplicate-key"]
    assert problems[0].span.line == 3
    assert "dup.yaml:1:1" in problems[0].message


def test_merge_keys_fill_in_without_overriding() -> None:
    text = "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n"
    document, problems = parse_yaml(text, "m.yaml")
    assert problems == []
    assert document.data["item"] == {"x": 1, "y": 3}
    assert document.spans[("item", "y")].value.line == 4


def test_invalid_yaml_names_line_and_column() -> None:
    document, problems = parse_yaml("a: [1, 2\nb: 3\n", "bad.yaml")
    assert document is None
    assert problems[0].code == "invalid-yaml"
    assert problems[0].span.file == "bad.yaml" and problems[0].span.line >= 2


def test_tab_indentation_gets_a_clear_message() -> None:
    document, problems = parse_yaml("a:\n\tb: 1\n", "tabs.yaml")
    assert document is None
    assert problems[0].code == "tab-indentation"
    assert (problems[0].span.line, problems[0].span.column) == (2, 1)
    assert "spaces" in problems[0].message


def test_python_tags_are_refused_never_constructed() -> None:
    text = "x: !!python/object/apply:os.system ['echo pwned']\n"
    document, problems = parse_yaml(text, "evil.yaml")
    assert document is None
    assert problems[0].code == "unsupported-tag"
    assert "!!python/object/apply:os.system" in problems[0].message
    document, problems = parse_yaml("x: !custom 1\n", "t.yaml")
    assert problems[0].code == "unsupported-tag"


@pytest.mark.timeout(30)  # an expanding parser would never finish: the bound is the test's
def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        prev = f"*a{n - 1}"
        lines.append(f"a{n}: &a{n} [{', '.join([prev] * 9)}]")
    document, problems = parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    assert document is None
    assert problems[0].code == "alias-bomb"
    assert f"{MAX_ALIAS_EXPANSION:,}" in problems[0].message


def test_modest_aliases_are_expanded() -> None:
    document, problems = parse_yaml("a: &x {k: 1}\nb: *x\nc: *x\n", "ok.yaml")
    assert problems == []
    assert document.data["c"] == {"k": 1}
    assert document.data["b"] is not document.data["c"]  # copies: later edits stay local


def test_recursive_alias_is_refused() -> None:
    document, problems = parse_yaml("a: &a [*a]\n", "rec.yaml")
    assert document is None
    assert problems[0].code == "yaml-too-deep"


def test_deep_nesting_is_refused() -> None:
    document, problems = parse_yaml("a: " + "[" * 500 + "]" * 500 + "\n", "deep.yaml")
    assert document is None
    assert problems[0].code == "yaml-too-deep"


def test_non_mapping_keys_are_reported() -> None:
    _, problems = parse_yaml("name: {{ vars.x }}\n", "t.yaml")
    assert problems and problems[0].code == "invalid-key"
    assert "quote template expressions" in problems[0].hint


def test_non_utf8_file_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: caf\xe9\n".encode("latin-1"))
    text, problems = read_manifest_text(path, "latin1.yaml")
    assert text is None
    assert problems[0].code == "not-utf8"
    assert "offset 14" in problems[0].message and "0xe9" in problems[0].message
    assert (problems[0].span.line, problems[0].span.column) == (2, 10)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    text, problems = read_manifest_text(path, "bom.yaml")
    assert problems == [] and text == "a: 1\n"


def test_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: 50 MB on stat, nothing written
        handle.truncate(50 * 1024 * 1024)
    text, problems = read_manifest_text(path, "huge.yaml")
    assert text is None
    assert problems[0].code == "file-too-large"
    assert f"{MAX_FILE_BYTES // 1048576} MiB" in problems[0].message
