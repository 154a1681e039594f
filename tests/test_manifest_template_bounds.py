"""Templates are bounded: output size, integer size and power, loop work and format widths
stop with a `template-limit` error naming the file and line, never gigabytes or minutes;
and templates see only the environment variables the manifest allows (`env_allow:` in
dexter.yaml, or the DEXTER_ prefix), so CI secrets never reach a plan."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.core.diagnostics import ValidationError
from dexter_sync.manifest import load_manifests
from dexter_sync.manifest.templating import TemplateContext, TemplateRenderer

HOSTILE = [
    "{{ 'x'|center(1500000000) }}",
    "{{ 'x'|indent(1500000000, true) }}",
    "{{ ((10**1000)**1000)**1000 }}",
    "{{ (10**500) * (10**500) * (10**500) * (10**500) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% set l = range(100000)|list %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}",
    "{{ 'x' * 100000000 }}",
    "{{ '%01000000000d' % 1 }}",
    "{{ '%01000000000d'|format(1) }}",
    "{{ '{:>1000000000}'.format(1) }}",
    "{{ ('x' * 1000000)|replace('x', 'x' * 1000) }}",
]


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_templates_stop_with_a_clear_error(expression: str) -> None:
    renderer = TemplateRenderer(TemplateContext())
    text, problem = renderer.render_file(f"a: 1\nb: {expression}\n", "alerts/evil.yaml.j2")
    assert text is None and problem is not None
    assert problem.code == "template-limit", problem
    assert (problem.span.file, problem.span.line) == ("alerts/evil.yaml.j2", 2)


def test_output_is_cut_off_while_it_streams() -> None:
    renderer = TemplateRenderer(TemplateContext())
    text, problem = renderer.render_file(
        "a: 1\nb: {% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}\n", "big.yaml.j2")
    assert text is None and problem is not None
    assert problem.code == "template-limit" and problem.span.file == "big.yaml.j2"
    assert "output over 10,485,760 characters" in problem.message


def test_ordinary_templates_stay_within_the_bounds() -> None:
    renderer = TemplateRenderer(TemplateContext(vars={"n": 3}))
    text, problem = renderer.render_file(
        "{% for i in range(1000) %}{% for j in range(10) %}{% endfor %}{% endfor %}"
        "{{ 2**64 }} {{ '%05d' % 42 }} {{ 'ab'|center(6) }}|{{ vars.n * 1000 }}", "ok.j2")
    assert problem is None
    assert text == "18446744073709551616 00042   ab  |3000"


def test_a_hostile_template_fails_validate_naming_the_file(tmp_path) -> None:
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [a.yaml.j2]\n")
    (tmp_path / "a.yaml.j2").write_text("metric_alerts:\n  - name: {{ 'x'|center(1500000000) }}\n")
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "a.yaml.j2:2:" in result.stderr and "template stopped: width" in result.stderr
    assert "[template-limit]" in result.stderr


def write(root, settings: str, body: str):
    (root / "dexter.yaml").write_text(
        "version: 1\norganization: acme\ninclude: [q.yaml]\n" + textwrap.dedent(settings))
    (root / "q.yaml").write_text(textwrap.dedent(body))
    return root


QUERY = """
discover_queries:
  - name: "{name}"
    projects: [backend]
    fields: [title]
    query: "event.type:error"
    range: 24h
"""


def test_templates_read_only_the_allowed_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CI_JOB_TOKEN", "glpat-ci-secret")
    monkeypatch.setenv("DEPLOY_COLOR", "blue")
    monkeypatch.setenv("DEXTER_TEAM", "sre")
    root = write(tmp_path, "env_allow: [DEPLOY_*]\n",
                 QUERY.format(name="{{ env.DEPLOY_COLOR }}-{{ env.DEXTER_TEAM }}"))
    loaded = load_manifests(root)
    assert [r.key for r in loaded.of_kind("discover_query")] == ["blue-sre"]

    write(tmp_path, "env_allow: [DEPLOY_*]\n", QUERY.format(name="{{ env.CI_JOB_TOKEN }}"))
    with pytest.raises(ValidationError) as refused:
        load_manifests(root)
    text = str(refused.value)
    assert "template-undefined" in text and "glpat-ci-secret" not in text
    assert "q.yaml:3:" in text and "env_allow" in text

    write(tmp_path, "env_allow: [DEPLOY_*]\n",
          QUERY.format(name="{{ env.keys()|sort|join(',') }}"))
    names = load_manifests(root).of_kind("discover_query")[0].key.split(",")
    assert "CI_JOB_TOKEN" not in names and {"DEPLOY_COLOR", "DEXTER_TEAM"} <= set(names)
    assert all(n.startswith(("DEPLOY_", "DEXTER_")) for n in names)
