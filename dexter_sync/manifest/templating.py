"""Jinja2 templates in manifests: whole `.j2` files and `{{ }}` inside plain YAML values.

The environment is sandboxed (no attribute access to `__class__`, `__globals__` and the
like) with StrictUndefined (a misspelt variable is an error, never an empty string), sees
only the environment variables the manifest allows, and is bounded (output size, integer
size, loop work). Every failure becomes a Diagnostic with the template's line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from ..core.diagnostics import Diagnostic
from ..core.sources import SourceSpan
from .reading import MAX_FILE_BYTES

_TEMPLATE_FILE = "<manifest-template>"
MAX_PRODUCT = 1_000_000
"""Largest string/list a template may build with `*`, and widest padding or format width."""
MAX_INT_BITS = 4096
"""Largest integer a template may compute (about 1,200 digits): `((10**1000)**1000)**1000`
would otherwise spin for minutes."""
MAX_LOOP_ITERATIONS = 1_000_000
"""Loop iterations one rendering may run, nested loops counted together."""
MAX_OUTPUT_CHARS = MAX_FILE_BYTES
"""Characters one rendering may produce (a whole file, or one value)."""
LOOP_GUARD = "__dexter_loop_guard"
_WIDTH = re.compile(r"(?:%[-+ #0]*|\{[^{}]*:[^{}]*?)(\d+)")
"""A field width in a %-format or a str.format spec (`%1000000000d`, `{:>1000000000}`)."""


class TemplateLimit(jinja2.exceptions.SecurityError):
    """A template asked for more than a manifest could need (size, integer, loop work)."""


def _check_widths(fmt: str) -> None:
    for match in _WIDTH.finditer(fmt):
        if len(match.group(1)) > 7 or int(match.group(1)) > MAX_PRODUCT:
            raise TemplateLimit(f"format width {match.group(1)} is over {MAX_PRODUCT:,}")


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"integer result over {MAX_INT_BITS} bits")
    return value


class _ManifestSandbox(SandboxedEnvironment):
    """The stock sandbox plus bounds, so a template cannot eat the memory or the CPU:
    results of `*`, `**` and `%`, widths given to `center`/`indent`/`format`/`str.format`,
    integers, loop iterations (every `for` counts against one budget per rendering) and
    output size (checked by TemplateRenderer while the output streams)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.loop_work = 0
        self.globals[LOOP_GUARD] = self._loop_guard
        for name in ("center", "indent"):
            self.filters[name] = self._width_checked(self.filters[name])
        fmt = self.filters["format"]
        self.filters["format"] = lambda value, *a, **k: fmt(_checked_format(value), *a, **k)
        replace = self.filters["replace"]
        self.filters["replace"] = self._replace_checked(replace)

    def _loop_guard(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.loop_work += 1
            if self.loop_work > MAX_LOOP_ITERATIONS:
                raise TemplateLimit(f"loops ran over {MAX_LOOP_ITERATIONS:,} iterations")
            yield item

    @staticmethod
    def _width_checked(original: Any) -> Any:
        def checked(*args: Any, **kwargs: Any) -> Any:
            for value in (*args[1:], *kwargs.values()):
                if isinstance(value, int) and abs(value) > MAX_PRODUCT:
                    raise TemplateLimit(f"width {value} is over {MAX_PRODUCT:,}")
            return original(*args, **kwargs)
        return checked

    @staticmethod
    def _replace_checked(original: Any) -> Any:
        def checked(eval_ctx: Any, value: Any, old: Any, new: Any, *args: Any) -> Any:
            text, old_text, new_text = str(value), str(old), str(new)
            grows = max(0, len(new_text) - len(old_text))
            if grows and len(text) + text.count(old_text or " ") * grows > MAX_PRODUCT * 10:
                raise TemplateLimit("replace result too large")
            return original(eval_ctx, value, old, new, *args)
        checked.jinja_pass_arg = getattr(original, "jinja_pass_arg", None)  # type: ignore[attr-defined]
        return checked

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_widths(value.__self__)  # `'{:>1000000000}'.format(1)`
        return wrapped

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and isinstance(left, (int, float)):
            if abs(right) > 1000 and abs(left) > 1:
                raise TemplateLimit("exponent too large")
            if isinstance(left, int) and left.bit_length() * right > MAX_INT_BITS:
                raise TemplateLimit(f"integer result over {MAX_INT_BITS} bits")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if (isinstance(seq, (str, list, tuple)) and isinstance(count, int)
                        and len(seq) * count > MAX_PRODUCT):
                    raise TemplateLimit("repetition result too large")
            if (isinstance(left, int) and isinstance(right, int)
                    and left.bit_length() + right.bit_length() > MAX_INT_BITS + 1):
                raise TemplateLimit(f"integer result over {MAX_INT_BITS} bits")
        if operator == "%" and isinstance(left, str):
            _check_widths(left)
        return _check_int(super().call_binop(context, operator, left, right))


def _checked_format(value: Any) -> Any:
    if isinstance(value, str):
        _check_widths(value)
    return value


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

    def _compile(self, text: str) -> jinja2.Template:
        template = self._compiled.get(text)
        if template is None:
            tree = self.environment.parse(text)
            for loop in tree.find_all(nodes.For):  # every loop counts against the budget
                loop.iter = nodes.Call(nodes.Name(LOOP_GUARD, "load"), [loop.iter], [],
                                       None, None, lineno=loop.lineno)
            code = self.environment.compile(tree, filename=_TEMPLATE_FILE)
            template = self.environment.template_class.from_code(
                self.environment, code, self.environment.make_globals(None))
            if len(self._compiled) < 10_000:
                self._compiled[text] = template
        return template

    def _stream(self, template: jinja2.Template) -> str:
        """The rendered text, stopped as soon as it passes MAX_OUTPUT_CHARS."""
        self.environment.loop_work = 0
        parts: list[str] = []
        size = 0
        for part in template.generate(self.context):
            size += len(part)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"output over {MAX_OUTPUT_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)

    def _render(self, text: str, span: SourceSpan, *, whole_file: bool) -> str | Diagnostic:
        try:
            return self._stream(self._compile(text))
        except jinja2.TemplateSyntaxError as error:
            return _diagnostic("template-syntax", f"template syntax error: {error.message}",
                               span, error.lineno, whole_file)
        except TemplateLimit as error:
            return _diagnostic(
                "template-limit", f"template stopped: {error}", span, _template_line(error),
                whole_file, hint="a manifest template is bounded in output size, integer "
                "size and loop work; generate large data outside dexter")
        except jinja2.exceptions.SecurityError as error:
            return _diagnostic(
                "template-unsafe",
                f"template refused by the sandbox: {error}",
                span, _template_line(error), whole_file,
                hint="templates may read vars, env and organization, not Python internals")
        except jinja2.UndefinedError as error:
            return _diagnostic(
                "template-undefined", f"template error: {plain_undefined(str(error.message))}",
                span,
                _template_line(error), whole_file, hint=self._undefined_hint(str(error.message)))
        except RecursionError:
            return _diagnostic("template-error", "template recursion is too deep", span, None,
                               whole_file)
        except Exception as error:  # noqa: BLE001 -- whatever a template expression raises
            return _diagnostic("template-error",
                               f"template error: {type(error).__name__}: {error}", span,
                               _template_line(error), whole_file)

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
