"""Jinja2 templates in manifests: whole `.j2` files and `{{ }}` inside plain YAML values.

The environment is sandboxed (no attribute access to `__class__`, `__globals__` and the
like) with StrictUndefined (a misspelt variable is an error, never an empty string). Every
failure becomes a Diagnostic with the template's line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..core.diagnostics import Diagnostic
from ..core.sources import SourceSpan
from .reading import MAX_FILE_BYTES

_TEMPLATE_FILE = "<manifest-template>"
_MAX_PRODUCT = 1_000_000
"""Largest string/list a template may build with `*`, and largest `**` result in digits."""


class _ManifestSandbox(SandboxedEnvironment):
    """The stock sandbox plus a cap on `*` and `**`, so `'x' * 10**10` cannot eat the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if (operator == "**" and isinstance(right, int) and isinstance(left, (int, float))
                and abs(right) > 1000 and abs(left) > 1):
            raise jinja2.exceptions.SecurityError("exponent too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (isinstance(seq, (str, list, tuple)) and isinstance(count, int)
                        and len(seq) * count > _MAX_PRODUCT):
                    raise jinja2.exceptions.SecurityError("repetition result too large")
        return super().call_binop(context, operator, left, right)


HIDDEN_ENV = frozenset({"SENTRY_AUTH_TOKEN"})
"""Never visible to templates: a rendered value may end up in a plan, a log or an error."""


class TemplateEnv(Mapping[str, str]):
    """The process environment as templates see it: read-only, without HIDDEN_ENV."""

    def __getitem__(self, name: str) -> str:
        if name in HIDDEN_ENV:
            raise KeyError(name)
        return os.environ[name]

    def __iter__(self) -> Iterator[str]:
        return (k for k in os.environ if k not in HIDDEN_ENV)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return "<environment>"


def template_env() -> Mapping[str, str]:
    return TemplateEnv()


@dataclass
class TemplateContext:
    """What templates may read: `vars`, `env` (the process environment), `organization`."""

    vars: dict[str, Any] = field(default_factory=dict)
    organization: str = ""
    env: Mapping[str, str] = field(default_factory=template_env)

    def as_dict(self) -> dict[str, Any]:
        return {"vars": self.vars, "env": self.env, "organization": self.organization}


class TemplateRenderer:
    def __init__(self, context: TemplateContext) -> None:
        self.context = context.as_dict()
        self.environment = _ManifestSandbox(
            undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
        )
        self._compiled: dict[str, jinja2.Template] = {}
        """Compiled templates by source: the same `{{ vars.x }}` recurs in many values."""

    def render_file(self, text: str, display: str) -> tuple[str | None, Diagnostic | None]:
        """Render a whole `.j2` file (before YAML parsing)."""
        result = self._render(text, SourceSpan(display, 1, 1), whole_file=True)
        if isinstance(result, Diagnostic):
            return None, result
        if len(result.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            return None, Diagnostic(
                "file-too-large",
                f"the rendered template is over the {MAX_FILE_BYTES // 1048576} MiB limit",
                span=SourceSpan(display, 1, 1))
        return result, None

    def render_value(self, text: str, span: SourceSpan) -> str | Diagnostic:
        """Render `{{ }}` inside one string value of a plain YAML file."""
        return self._render(text, span, whole_file=False)

    def _render(self, text: str, span: SourceSpan, *, whole_file: bool) -> str | Diagnostic:
        try:
            template = self._compiled.get(text)
            if template is None:
                code = self.environment.compile(text, filename=_TEMPLATE_FILE)
                template = self.environment.template_class.from_code(
                    self.environment, code, self.environment.make_globals(None))
                if len(self._compiled) < 10_000:
                    self._compiled[text] = template
            return template.render(self.context)
        except jinja2.TemplateSyntaxError as error:
            return _diagnostic("template-syntax", f"template syntax error: {error.message}",
                               span, error.lineno, whole_file)
        except jinja2.exceptions.SecurityError as error:
            return _diagnostic(
                "template-unsafe",
                f"template refused by the sandbox: {error}",
                span, _template_line(error), whole_file,
                hint="templates may read vars, env and organization, not Python internals")
        except jinja2.UndefinedError as error:
            hidden = next((name for name in HIDDEN_ENV if name in str(error.message)), None)
            return _diagnostic(
                "template-undefined", f"template error: {error.message}", span,
                _template_line(error), whole_file,
                hint=f"{hidden} is never available to templates (it stays in the environment)"
                if hidden else "templates can read `vars.<name>` (from dexter.yaml), "
                "`env.<NAME>` and `organization`")
        except RecursionError:
            return _diagnostic("template-error", "template recursion is too deep", span, None,
                               whole_file)
        except Exception as error:  # noqa: BLE001 -- whatever a template expression raises
            return _diagnostic("template-error",
                               f"template error: {type(error).__name__}: {error}", span,
                               _template_line(error), whole_file)


def _template_line(error: BaseException) -> int | None:
    """The template line of a runtime error: jinja2 rewrites tracebacks to template lines."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _diagnostic(code: str, message: str, span: SourceSpan, line: int | None,
                whole_file: bool, *, hint: str | None = None) -> Diagnostic:
    if line is not None and whole_file:
        span = SourceSpan(span.file, line, 1)
    elif line is not None and line > 1:
        # a multi-line value: the template's line counts from the value's first line
        span = SourceSpan(span.file, span.line + line - 1, 1)
    return Diagnostic(code, message, span=span, hint=hint)
