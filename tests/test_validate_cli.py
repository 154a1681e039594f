"""`dexter validate` through the real CLI: every kind of bad input gives a clear, positioned
error and exit 1 (never a traceback); valid manifests and examples/acme give exit 0."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from click.testing import CliRunner, Result

from dexter_sync.cli.main import cli

REPO = Path(__file__).resolve().parents[1]
SETTINGS = "version: 1\norganization: acme\nvars: {team: backend}\ninclude: ['*']\n"


def alert(name: str = "High errors", *, window: str = "5m", critical: str = "100",
          warning: str | None = None, extra: str = "") -> str:
    text = f"""\
      - name: {name}
        project: backend
        aggregate: count()
        time_window: {window}
        triggers:
          critical:
            threshold: {critical}
            actions: [{{email: {{team: backend}}}}]
    """
    text = textwrap.dedent(text)
    if warning is not None:
        text += f"    warning:\n      threshold: {warning}\n" \
                "      actions: [{email: {team: backend}}]\n"
    return textwrap.indent(text + extra, "  ")


def run(root: Path, files: dict[str, str | bytes], settings: str = SETTINGS) -> Result:
    (root / "dexter.yaml").write_text(settings, encoding="utf-8")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return CliRunner().invoke(cli, ["validate", str(root)])


def refused(result: Result, code: str, *fragments: str) -> str:
    """Exit 1 with the diagnostic code and text fragments, and no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert f"[{code}]" in result.output, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    return result.output


def test_valid_manifests_report_counts(tmp_path: Path) -> None:
    result = run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert() + alert("Other")})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 2 resources (2 metric_alert) in 2 files")


def test_examples_acme_validates() -> None:
    result = CliRunner().invoke(cli, ["validate", str(REPO / "examples" / "acme")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_invalid_yaml(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts: [\n  - name: x\n"}), "invalid-yaml",
            "a.yaml:")


def test_tabs(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n\t- name: x\n"}), "tab-indentation",
            "a.yaml:2:1", "spaces")


def test_wrong_type(tmp_path: Path) -> None:
    out = refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(critical="[1, 2]")}),
                  "invalid-value", "a.yaml:8:", "metric_alerts[0].triggers.critical.threshold")
    assert "got a list" in out


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(extra="  time_windw: 5\n")}),
            "unknown-field", "a.yaml:10:5", "'time_windw'", "did you mean 'time_window'?")


def test_missing_required_field(tmp_path: Path) -> None:
    text = "metric_alerts:\n" + alert().replace("    aggregate: count()\n", "")
    refused(run(tmp_path, {"a.yaml": text}), "missing-field", "a.yaml:2:5",
            "metric_alerts[0].aggregate", "missing required field 'aggregate'")


def test_out_of_range_time_window(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(window="2d")}), "invalid-value",
            "a.yaml:5:", "metric_alerts[0].time_window", "1d")


def test_out_of_range_threshold_period(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(extra="  threshold_period: 21\n")}),
            "invalid-value", "threshold_period", "20")


def test_warning_on_the_wrong_side_of_critical(tmp_path: Path) -> None:
    out = refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(critical="10",
                                                                        warning="50")}),
                  "invalid-value", "a.yaml:2:5", "metric_alerts[0]")
    assert "warning" in out.lower() and "critical" in out.lower()


def test_empty_name(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(name='""')}), "invalid-value",
            "a.yaml:2:", "metric_alerts[0].name")


def test_blank_name(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(name='"   "')}), "invalid-value",
            "metric_alerts[0].name", "empty")


def test_duplicate_yaml_keys(tmp_path: Path) -> None:
    text = "metric_alerts:\n" + alert().replace("    project: backend\n",
                                                "    project: backend\n    project: frontend\n")
    refused(run(tmp_path, {"a.yaml": text}), "duplicate-key", "a.yaml:4:5", "'project'",
            "a.yaml:3:5")


def test_duplicate_natural_keys_name_both_places(tmp_path: Path) -> None:
    out = refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(),
                                 "b.yaml": "metric_alerts:\n" + alert()}),
                  "duplicate-key", "declared twice")
    assert "a.yaml:2:5" in out and "b.yaml:2:5" in out


def test_include_glob_matching_nothing(tmp_path: Path) -> None:
    settings = "version: 1\norganization: acme\ninclude: ['alerts/**/*.yaml']\n"
    refused(run(tmp_path, {}, settings), "include-no-match", "'alerts/**/*.yaml'",
            "dexter.yaml:3:")


def test_include_loop(tmp_path: Path) -> None:
    settings = "version: 1\norganization: acme\ninclude: [one.yaml]\n"
    refused(run(tmp_path, {"one.yaml": "include: [two.yaml]\n", "two.yaml": "include: [one.yaml]\n"},
                settings), "include-loop", "one.yaml -> ", "two.yaml")


def test_non_utf8_file(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts: []\n# caf\xe9\n".encode("latin-1")}),
            "not-utf8", "a.yaml:2:6", "offset 23")


def test_undefined_template_variable(tmp_path: Path) -> None:
    refused(run(tmp_path, {"a.yaml": "metric_alerts:\n" + alert(name='"{{ vars.tema }}"')}),
            "template-undefined", "a.yaml:2:11", "tema")


def test_undefined_variable_in_j2_file(tmp_path: Path) -> None:
    refused(run(tmp_path, {"gen.yaml.j2": "metric_alerts:\n\n{{ vars.nothing }}\n"}),
            "template-undefined", "gen.yaml.j2:3:")


def test_template_syntax_error(tmp_path: Path) -> None:
    refused(run(tmp_path, {"gen.yaml.j2": "metric_alerts:\n{% for p in %}\n{% endfor %}\n"}),
            "template-syntax", "gen.yaml.j2:2:")


def test_sandbox_escape(tmp_path: Path) -> None:
    text = "metric_alerts:\n" + alert(name="\"{{ ''.__class__.__mro__ }}\"")
    refused(run(tmp_path, {"a.yaml": text}), "template-unsafe", "a.yaml:2:", "unsafe")


def test_sandbox_escape_in_j2_file(tmp_path: Path) -> None:
    refused(run(tmp_path, {"gen.yaml.j2": "x: {{ cycler.__init__.__globals__ }}\n"}),
            "template-unsafe", "gen.yaml.j2:1:")


def test_python_object_tag(tmp_path: Path) -> None:
    text = "metric_alerts:\n  - !!python/object:os.system {name: x}\n"
    refused(run(tmp_path, {"a.yaml": text}), "unsupported-tag", "a.yaml:2:", "!!python/object")


def test_alias_bomb(tmp_path: Path) -> None:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[n]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    refused(run(tmp_path, {"a.yaml": "\n".join(lines) + "\n"}), "alias-bomb", "a.yaml:1:1")


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"# " + b"x" * (50 * 1024 * 1024) + b"\n")
    refused(run(tmp_path, {}), "file-too-large", "big.yaml", "MiB")


def test_several_errors_in_one_run(tmp_path: Path) -> None:
    settings = "version: 1\norganization: acme\ninclude: ['*.yaml', 'missing/*.yaml']\n"
    out = refused(run(tmp_path, {
        "a.yaml": "metric_alerts:\n" + alert(window="0m") + alert("B", extra="  nme: x\n"),
        "b.yaml": "issue_alert: []\n",
        "c.yaml": "a: [\n",
    }, settings), "invalid-value")
    assert out.splitlines()[0] == "error: 5 errors in the manifests: [invalid-manifest]"
    for code in ("include-no-match", "unknown-field", "unknown-section", "invalid-yaml"):
        assert f"[{code}]" in out


def test_out_of_range_issue_alert_frequency(tmp_path: Path) -> None:
    text = """\
issue_alerts:
  - name: New issues
    project: backend
    frequency: 2m
    conditions: [first_seen_event]
    actions: [{email: {team: backend}}]
"""
    refused(run(tmp_path, {"a.yaml": text}), "invalid-value", "a.yaml:4:16",
            "issue_alerts[0].frequency", "5m")


def test_out_of_range_discover_top_events(tmp_path: Path) -> None:
    text = "discover_queries:\n  - {name: Top, fields: [title], top_events: 11}\n"
    refused(run(tmp_path, {"a.yaml": text}), "invalid-value", "discover_queries[0].top_events",
            "less than or equal to 10, got 11")


def test_unknown_issue_alert_condition_suggests_the_closest(tmp_path: Path) -> None:
    text = """\
issue_alerts:
  - name: New issues
    project: backend
    conditions: [{event_frequncy: {value: 10, interval: 1h}}]
    actions: [{email: {team: backend}}]
"""
    refused(run(tmp_path, {"a.yaml": text}), "unknown-field", "a.yaml:4:19",
            "did you mean 'event_frequency'?")


def test_misspelt_required_key_is_one_error_not_two(tmp_path: Path) -> None:
    text = "metric_alerts:\n" + alert().replace("aggregate:", "agregate:")
    out = refused(run(tmp_path, {"a.yaml": text}), "unknown-field", "did you mean 'aggregate'?")
    assert out.splitlines()[0] == "error: 1 error in the manifests: [invalid-manifest]"
    assert "[missing-field]" not in out


def test_misspelt_choice_suggests_the_closest(tmp_path: Path) -> None:
    text = "metric_alerts:\n" + alert(extra="  threshold_type: abov\n")
    refused(run(tmp_path, {"a.yaml": text}), "invalid-value", "metric_alerts[0].threshold_type",
            "got 'abov'", "did you mean 'above'?")


def test_fixture_with_every_family_of_error_reports_all_in_one_run() -> None:
    fixture = REPO / "tests" / "data" / "manifests" / "several-errors"
    result = CliRunner().invoke(cli, ["validate", str(fixture)])
    out = refused(result, "duplicate-key")
    found = re.findall(r"^  \S*?([a-z-]+\.yaml(?:\.j2)?):(\d+):(\d+): .*\[([a-z-]+)\]$", out,
                       re.MULTILINE)
    assert [(f, int(line), code) for f, line, _, code in found] == [
        ("alerts.yaml", 8, "duplicate-key"),       # same name as line 2
        ("alerts.yaml", 17, "unknown-field"),      # time_windw
        ("alerts.yaml", 20, "invalid-value"),      # warning above critical
        ("alerts.yaml", 28, "invalid-value"),      # empty name
        ("alerts.yaml", 30, "invalid-value"),      # frequency under 5m
        ("dexter.yaml", 6, "unknown-field"),       # default enviroment
        ("dexter.yaml", 7, "include-no-match"),
        ("per-project.yaml.j2", 6, "invalid-value"),  # top_events 50 (rendered line 11)
    ]
    assert out.splitlines()[0] == "error: 8 errors in the manifests: [invalid-manifest]"
