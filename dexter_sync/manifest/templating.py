"""Jinja2 templates in manifests: whole `.j2` files and `{{ }}` inside plain YAML values.

The environment is sandboxed (no attribute access to `__class__`, `__globals__` and the
like) with StrictUndefined (a misspelt variable is an error, never an empty string), sees
only the environment variables the manifest allows, and is bounded (output size, integer
size, loop work: sandbox.py, imported on the first template). Every failure becomes a
Diagnostic with the template's line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from ..core.diagnostics import Diagnostic
from ..core.sources import SourceSpan
from .reading import MAX_FILE_BYTES

if TYPE_CHECKING:  # jinja2 is imported with the sandbox, on the first template (start-up)
    import jinja2

    from .sandbox import ManifestSandbox

HIDDEN_ENV = frozenset({"SENTRY_AUTH_TOKEN"})
"""Never visible to templates: a rendered value may end up in a plan, a log or an error."""
ENV_PREFIX = "DEXTER_"
"""Variables with this prefix are visible to templates without being listed in env_allow."""


class TemplateEnv(Mapping[str, str]):
    """The process environment as templates see it: read-only, and only the variables the
    manifest allows (`env_allow:` names or globs in dexter.yaml, or the DEXTER_ prefix), so
    CI secrets never reach a plan, a PR comment or Sentry. HIDDEN_ENV is never visible."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow = tuple(allow)

    def allows(self, name: str) -> bool:
        if name in HIDDEN_ENV:
            return False
        return name.startswith(ENV_PREFIX) or any(fnmatchcase(name, p) for p in self.allow)

    def __getitem__(self, name: str) -> str:
        if not self.allows(name):
            raise KeyError(name)
        return os.environ[name]

    def __iter__(self) -> Iterator[str]:
        return (k for k in os.environ if self.allows(k))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return "<environment>"


def template_env(allow: Iterable[str] = ()) -> Mapping[str, str]:
    return TemplateEnv(allow)


@dataclass
class TemplateContext:
    """What templates may read: `vars`, `env` (the allowed environment), `organization`."""

    vars: dict[str, Any] = field(default_factory=dict)
    organization: str = ""
    env: Mapping[str, str] = field(default_factory=template_env)

    def as_dict(self) -> dict[str, Any]:
        return {"vars": self.vars, "env": self.env, "organization": self.organization}


class TemplateRenderer:
    """Renders manifest templates in the bounded sandbox (sandbox.py), made on the first
    template: a manifest without `{{ }}` never imports jinja2."""

    def __init__(self, context: TemplateContext) -> None:
        self.context = context.as_dict()
        self._environment: ManifestSandbox | None = None
        self._compiled: dict[str, jinja2.Template] = {}
        """Compiled templates by source: the same `{{ vars.x }}` recurs in many values."""

    @property
    def environment(self) -> ManifestSandbox:
        if self._environment is None:
            from .sandbox import new_sandbox
            self._environment = new_sandbox()
        return self._environment

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

    def _compile(self, text: str) -> jinja2.Template:
        template = self._compiled.get(text)
        if template is None:
            template = self.environment.compile_bounded(text)
            if len(self._compiled) < 10_000:
                self._compiled[text] = template
        return template

    def _render(self, text: str, span: SourceSpan, *, whole_file: bool) -> str | Diagnostic:
        import jinja2

        from .sandbox import TemplateLimit, template_line
        try:
            return self.environment.render_bounded(self._compile(text), self.context)
        except jinja2.TemplateSyntaxError as error:
            return _diagnostic("template-syntax", f"template syntax error: {error.message}",
                               span, error.lineno, whole_file)
        except TemplateLimit as error:
            return _diagnostic(
                "template-limit", f"template stopped: {error}", span, template_line(error),
                whole_file, hint="a manifest template is bounded in output size, integer "
                "size and loop work; generate large data outside dexter")
        except jinja2.exceptions.SecurityError as error:
            return _diagnostic(
                "template-unsafe",
                f"template refused by the sandbox: {error}",
                span, template_line(error), whole_file,
                hint="templates may read vars, env and organization, not Python internals")
        except jinja2.UndefinedError as error:
            return _diagnostic(
                "template-undefined", f"template error: {plain_undefined(str(error.message))}",
                span,
                template_line(error), whole_file, hint=self._undefined_hint(str(error.message)))
        except RecursionError:
            return _diagnostic("template-error", "template recursion is too deep", span, None,
                               whole_file)
        except Exception as error:  # noqa: BLE001 -- whatever a template expression raises
            return _diagnostic("template-error",
                               f"template error: {type(error).__name__}: {error}", span,
                               template_line(error), whole_file)

    def _undefined_hint(self, message: str) -> str:
        hidden = next((name for name in HIDDEN_ENV if name in message), None)
        if hidden:
            return f"{hidden} is never available to templates (it stays in the environment)"
        env = self.context.get("env")
        for name in re.findall(r"'(\w+)'", message):
            if name in os.environ and isinstance(env, TemplateEnv) and not env.allows(name):
                return (f"the environment variable {name} is not allowed: list it in "
                        f"`env_allow:` in dexter.yaml, or name it {ENV_PREFIX}{name}")
        return ("templates can read `vars.<name>` (from dexter.yaml), `env.<NAME>` (the "
                f"variables `env_allow:` lists and {ENV_PREFIX}*) and `organization`")


_NO_ATTRIBUTE = re.compile(r"^'(?P<owner>.+?) object' has no attribute '(?P<name>.+)'$")
_OWNER_WORDS = {"dict": "the mapping", "str": "a text value", "int": "a number",
                "float": "a number", "list": "a list", "tuple": "a list"}


def plain_undefined(message: str) -> str:
    """jinja2's undefined message without internal class names: `env.HOME is not defined`
    rather than `'dexter_sync.manifest.templating.TemplateEnv object' has no attribute`."""
    match = _NO_ATTRIBUTE.match(message)
    if match is None:
        return message
    owner, name = match["owner"], match["name"]
    if owner.endswith("TemplateEnv"):
        return f"env.{name} is not defined"
    where = _OWNER_WORDS.get(owner, f"a {owner.rsplit('.', 1)[-1]} value")
    return f"{name!r} is not defined in {where}"


def _diagnostic(code: str, message: str, span: SourceSpan, line: int | None,
                whole_file: bool, *, hint: str | None = None) -> Diagnostic:
    if line is not None and whole_file:
        span = SourceSpan(span.file, line, 1)
    elif line is not None and line > 1:
        # a multi-line value: the template's line counts from the value's first line
        span = SourceSpan(span.file, span.line + line - 1, 1)
    return Diagnostic(code, message, span=span, hint=hint)
