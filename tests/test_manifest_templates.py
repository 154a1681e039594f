"""Sandboxed jinja2 templates: context (vars, env, organization), strict undefined
variables, syntax errors and sandbox escapes, each a diagnostic with the template's line."""

from __future__ import annotations

import pytest

from dexter_sync.core.diagnostics import Diagnostic
from dexter_sync.core.sources import SourceSpan
from dexter_sync.manifest.templating import TemplateContext, TemplateRenderer, template_env


@pytest.fixture
def renderer() -> TemplateRenderer:
    return TemplateRenderer(TemplateContext(vars={"projects": ["backend", "mobile"], "n": 3},
                                            organization="acme", env={"TEAM": "sre"}))


def test_context_holds_vars_env_and_organization(renderer: TemplateRenderer) -> None:
    text, problem = renderer.render_file(
        "{% for p in vars.projects %}- {{ p }}@{{ organization }}/{{ env.TEAM }}\n{% endfor %}",
        "t.yaml.j2")
    assert problem is None
    assert text == "- backend@acme/sre\n- mobile@acme/sre\n"


def test_value_rendering_keeps_the_value_position(renderer: TemplateRenderer) -> None:
    span = SourceSpan("a.yaml", 7, 11)
    assert renderer.render_value("{{ vars.n * 2 }} errors", span) == "6 errors"
    problem = renderer.render_value("{{ vars.missing }}", span)
    assert isinstance(problem, Diagnostic)
    assert problem.span == span and problem.code == "template-undefined"


def test_undefined_variable_names_the_template_line(renderer: TemplateRenderer) -> None:
    text, problem = renderer.render_file("a: 1\nb: 2\nc: {{ vars.nope }}\n", "t.yaml.j2")
    assert text is None
    assert problem.code == "template-undefined"
    assert "nope" in problem.message
    assert (problem.span.file, problem.span.line) == ("t.yaml.j2", 3)


def test_syntax_error_names_the_template_line(renderer: TemplateRenderer) -> None:
    _, problem = renderer.render_file("a: 1\n{% for x in %}\n{% endfor %}\n", "t.yaml.j2")
    assert problem.code == "template-syntax"
    assert problem.span.line == 2


@pytest.mark.parametrize("expression", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ vars.__class__.__subclasses__() }}",
    "{{ lipsum.__globals__['os'] }}",
])
def test_sandbox_escapes_are_refused(renderer: TemplateRenderer, expression: str) -> None:
    _, problem = renderer.render_file(f"a: 1\nb: {expression}\n", "evil.yaml.j2")
    assert problem is not None
    assert problem.code == "template-unsafe"
    assert problem.span.line == 2


def test_runtime_errors_become_diagnostics(renderer: TemplateRenderer) -> None:
    _, problem = renderer.render_file("{{ 1 // 0 }}", "t.yaml.j2")
    assert problem.code == "template-error" and "ZeroDivisionError" in problem.message


def test_the_sentry_token_is_never_visible_to_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntrys_secret_value")
    monkeypatch.setenv("DEPLOY_ENV", "blue")
    renderer = TemplateRenderer(TemplateContext(env=template_env(["DEPLOY_ENV", "SENTRY_*"])))
    assert renderer.render_file("{{ env.DEPLOY_ENV }}", "t.j2") == ("blue", None)
    text, problem = renderer.render_file("{{ env.SENTRY_AUTH_TOKEN }}", "t.j2")
    assert text is None and problem.code == "template-undefined"
    assert "never available" in problem.hint
    assert "sntrys_secret_value" not in str(problem)
    rendered, _ = renderer.render_file("{{ env | string }}", "t.j2")
    assert "sntrys_secret_value" not in (rendered or "")


def test_rendered_lines_map_back_to_unique_template_lines() -> None:
    from dexter_sync.manifest.linemapping import TemplateLines

    template = TemplateLines("a:\n{% for x in y %}\n  - name: {{ x }}\n    size: 1\n"
                             "{% endfor %}\nb:\n    size: 1\n{{ whole }}\n")
    assert template.origin("  - name: anything") == 3
    assert template.origin("a:") == 1
    assert template.origin("    size: 1") is None  # lines 4 and 7 both render this
    assert template.origin("c: 2") is None  # a bare `{{ whole }}` line could be anything
