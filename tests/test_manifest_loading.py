"""load_manifests: dexter.yaml, includes, defaults, type tags, keys and children, positions
of every entry and field, and problems collected over all files in one ValidationError."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dexter_sync.core.diagnostics import ValidationError
from dexter_sync.manifest import load, load_manifests

SETTINGS = """\
version: 1
organization: acme
vars: {projects: [backend, frontend], oncall: backend}
defaults: {environment: production, metric_alerts: {threshold_period: 2}}
prune: {metric_alerts: true, issue_alerts: [backend]}
safety: {max_delete_percent: 20, min_existing: 5}
include: ["alerts/*.yaml", "*.yaml.j2", "links.yaml"]
"""

ALERT = """\
  - name: {name}
    project: backend
    aggregate: count()
    time_window: 5m
    triggers:
      critical:
        threshold: 100
        actions: [{{email: {{team: backend}}}}]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def errors(root: Path) -> list:
    with pytest.raises(ValidationError) as caught:
        load_manifests(root)
    return caught.value.diagnostics


def valid_tree(root: Path) -> Path:
    return write(root, {
        "dexter.yaml": SETTINGS,
        "alerts/a.yaml": "metric_alerts:\n" + ALERT.format(name="High errors")
        + ALERT.format(name='"Errors on {{ vars.oncall }}"'),
        "per-project.yaml.j2": """\
            discover_queries:
            {% for p in vars.projects %}
              - name: "Errors in {{ p }}"
                projects: [{{ p }}]
                fields: [title, count()]
                query: "event.type:error"
            {% endfor %}
            """,
        "links.yaml": """\
            releases:
              - version: "backend@1.2.0"
                projects: [backend]
                deploys:
                  - {environment: production, name: deploy-1}
                  - {environment: staging}
            integration_links:
              - type: repository
                name: acme/backend
                integration: acme-github
              - type: code_mapping
                project: backend
                repository: acme/backend
                stack_root: app/
                source_root: src/app/
            """,
    })


def test_valid_tree_loads_every_kind_with_settings(tmp_path: Path) -> None:
    loaded = load(valid_tree(tmp_path))
    state = loaded.state
    settings = state.settings
    assert settings.organization == "acme"
    assert settings.prune == {"metric_alerts": True, "issue_alerts": ["backend"]}
    assert (settings.max_delete_percent, settings.max_update_percent, settings.min_existing) == (
        20, 50, 5)
    kinds = sorted(r.kind for r in state.resources)
    assert kinds == ["code_mapping", "deploy", "deploy", "discover_query", "discover_query",
                     "metric_alert", "metric_alert", "release", "repository"]
    assert len(loaded.files) == 4 and loaded.files[0].endswith("dexter.yaml")


def test_values_templates_and_defaults_are_applied(tmp_path: Path) -> None:
    state = load_manifests(valid_tree(tmp_path))
    alerts = {r.entry.name: r for r in state.of_kind("metric_alert")}
    assert set(alerts) == {"High errors", "Errors on backend"}
    entry = alerts["High errors"].entry
    assert entry.environment == "production" and entry.threshold_period == 2
    # a defaulted field points into dexter.yaml, a declared one into its own file
    assert alerts["High errors"].field_spans[("environment",)].file.endswith("dexter.yaml")
    assert alerts["High errors"].field_spans[("name",)].file.endswith("a.yaml")
    queries = sorted(r.entry.name for r in state.of_kind("discover_query"))
    assert queries == ["Errors in backend", "Errors in frontend"]


def test_entry_and_field_positions(tmp_path: Path) -> None:
    state = load_manifests(valid_tree(tmp_path))
    first = next(r for r in state.of_kind("metric_alert") if r.entry.name == "High errors")
    assert (first.span.line, first.span.column) == (2, 5)
    assert first.field_spans[("triggers", "critical", "threshold")].line == 8
    assert first.span_for(("triggers", "critical", "threshold", "nope")).line == 8


def test_children_carry_their_parent_key_and_place(tmp_path: Path) -> None:
    state = load_manifests(valid_tree(tmp_path))
    release = state.of_kind("release")[0]
    deploys = state.of_kind("deploy")
    assert {d.parent_key for d in deploys} == {release.key}
    assert sorted(d.span.line for d in deploys) == [5, 6]
    assert len({d.key for d in deploys}) == 2


def test_path_may_be_the_settings_file(tmp_path: Path) -> None:
    valid_tree(tmp_path)
    assert len(load_manifests(tmp_path / "dexter.yaml").resources) == 9


def test_missing_settings_file(tmp_path: Path) -> None:
    (problem,) = errors(tmp_path)
    assert problem.code == "no-settings"


def test_file_included_by_two_globs_loads_once(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\n"
                     "include: ['*.yaml', 'a.yaml']\n",
                     "a.yaml": "metric_alerts:\n" + ALERT.format(name="A")})
    assert len(load_manifests(tmp_path).resources) == 1


def test_nested_include_is_relative_to_its_file(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [sub/index.yaml]\n",
                     "sub/index.yaml": "include: ['alerts/*.yaml']\n",
                     "sub/alerts/x.yaml": "metric_alerts:\n" + ALERT.format(name="A")})
    assert [r.entry.name for r in load_manifests(tmp_path).resources] == ["A"]


def test_include_loop_names_the_chain(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [a.yaml]\n",
                     "a.yaml": "include: [b.yaml]\n", "b.yaml": "include: [a.yaml]\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "include-loop"
    assert "a.yaml -> " in problem.message and problem.message.count("a.yaml") == 2


def test_settings_including_itself_is_a_loop(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [dexter.yaml]\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "include-loop"


def test_include_glob_matching_nothing(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude:\n  - 'nope/*.yaml'\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "include-no-match"
    assert "'nope/*.yaml'" in problem.message
    assert (problem.span.line, problem.span.column) == (4, 5)


def test_unknown_sections_next_to_the_alerting_sections(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [a.yaml]\n",
                     "a.yaml": "alerts: []\nmonitors: []\nmetric_alert: []\n"})
    problems = errors(tmp_path)
    assert [p.code for p in problems] == ["unknown-section"]
    assert problems[0].hint == "did you mean 'metric_alerts'?"


def test_shared_section_needs_a_known_type(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [a.yaml]\n",
                     "a.yaml": "integration_links:\n  - name: acme/x\n"
                               "  - {type: repositry, name: acme/y}\n"})
    missing, unknown = errors(tmp_path)
    assert missing.code == "missing-type" and "repository" in missing.message
    assert unknown.code == "unknown-type" and unknown.hint == "did you mean 'repository'?"


def test_unknown_default_is_reported(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\n"
                                    "defaults: {enviroment: production}\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "unknown-field" and problem.hint == "did you mean 'environment'?"


def test_bad_default_value_points_into_settings(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\ninclude: [a.yaml]\n"
                                    "defaults: {metric_alerts: {threshold_period: 99}}\n",
                     "a.yaml": "metric_alerts:\n" + ALERT.format(name="A")})
    (problem,) = errors(tmp_path)
    assert problem.span.file.endswith("dexter.yaml") and problem.span.line == 4
    assert problem.path == ("metric_alerts", 0, "threshold_period")


def test_prune_keys_must_be_sections(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 1\norganization: acme\nprune: {metric_alert: true}\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "unknown-section" and problem.hint == "did you mean 'metric_alerts'?"


def test_settings_errors_and_file_errors_in_one_run(tmp_path: Path) -> None:
    write(tmp_path, {"dexter.yaml": "version: 2\norganization: acme\ninclude: [a.yaml]\n",
                     "a.yaml": "metric_alerts:\n" + ALERT.format(name="A").replace("5m", "5y")})
    problems = errors(tmp_path)
    assert [p.span.file.rsplit("/", 1)[-1] for p in problems] == ["a.yaml", "dexter.yaml"]


@pytest.mark.parametrize("pattern", ["../*.yaml", "/etc/*.yaml", "sub/../../x.yaml"])
def test_include_globs_stay_inside_the_directory(tmp_path: Path, pattern: str) -> None:
    write(tmp_path, {"dexter.yaml": f"version: 1\norganization: acme\ninclude: ['{pattern}']\n"})
    (problem,) = errors(tmp_path)
    assert problem.code == "invalid-include" and "`..`" in problem.message


@pytest.mark.parametrize("link", ["file", "directory"])
def test_an_include_reaching_a_symlink_out_of_the_root_is_refused(tmp_path: Path,
                                                                  link: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.yaml").write_text("metric_alerts:\n" + ALERT.format(name="Stolen"))
    root = tmp_path / "root"
    write(root, {"dexter.yaml": "version: 1\norganization: acme\ninclude: ['alerts/*.yaml']\n",
                 "alerts/mine.yaml": "metric_alerts:\n" + ALERT.format(name="Mine")})
    if link == "file":
        (root / "alerts" / "stolen.yaml").symlink_to(outside / "stolen.yaml")
    else:
        (root / "alerts").rename(root / "real")
        (root / "alerts").symlink_to(outside)
    (problem,) = errors(root)
    assert problem.code == "invalid-include" and "outside the manifest root" in problem.message
    assert problem.span.file.endswith("dexter.yaml") and problem.span.line == 3


def test_errors_in_rendered_templates_point_at_the_template_line(tmp_path: Path) -> None:
    write(tmp_path, {
        "dexter.yaml": "version: 1\norganization: acme\nvars: {n: [1, 2]}\ninclude: [a.yaml.j2]\n",
        "a.yaml.j2": "metric_alerts:\n{% for i in vars.n %}\n" + ALERT.format(name="A{{ i }}")
        .replace("time_window: 5m", "time_window: {{ i * 5000 }}m") + "{% endfor %}\n",
    })
    problems = errors(tmp_path)
    assert [p.path for p in problems] == [("metric_alerts", 0, "time_window"),
                                          ("metric_alerts", 1, "time_window")]
    # both come from template line 6, inside the loop; the rendered lines are quoted
    assert [(p.span.line, p.span.column) for p in problems] == [(6, 18), (6, 18)]
    assert "template line 6, rendered as line 6: 'time_window: 5000m'" in problems[0].hint
    assert "rendered as line 15: 'time_window: 10000m'" in problems[1].hint


def test_ambiguous_rendered_lines_keep_the_rendered_position(tmp_path: Path) -> None:
    write(tmp_path, {
        "dexter.yaml": "version: 1\norganization: acme\ninclude: [a.yaml.j2]\n",
        "a.yaml.j2": "{% set w = '9d' %}\nmetric_alerts:\n" + ALERT.format(name="A").replace(
            "5m", "{{ w }}") + ALERT.format(name="B").replace("5m", "{{ w }}"),
    })
    problems = errors(tmp_path)
    assert [p.span.line for p in problems] == [6, 14]  # rendered lines: two template lines fit
    assert "rendered output" in problems[0].hint and "'time_window: 9d'" in problems[0].hint
