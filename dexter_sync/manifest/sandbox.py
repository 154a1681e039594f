"""The jinja2 sandbox manifest templates run in, bounded so a template cannot eat the
memory or the CPU. Imported only when a manifest holds template syntax: jinja2 costs
start-up time every `dexter validate` would otherwise pay."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from .reading import MAX_FILE_BYTES

TEMPLATE_FILE = "<manifest-template>"
"""The file name compiled templates carry: their frames in a traceback are template lines."""
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


class ManifestSandbox(SandboxedEnvironment):
    """The stock sandbox plus bounds, so a template cannot eat the memory or the CPU:
    results of `*`, `**` and `%`, widths given to `center`/`indent`/`format`/`str.format`,
    integers, loop iterations (every `for` counts against one budget per rendering) and
    output size (checked while the output streams)."""

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

    def compile_bounded(self, text: str) -> jinja2.Template:
        """A template whose every `for` loop counts against the loop budget."""
        tree = self.parse(text)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(LOOP_GUARD, "load"), [loop.iter], [],
                                   None, None, lineno=loop.lineno)
        code = self.compile(tree, filename=TEMPLATE_FILE)
        return self.template_class.from_code(self, code, self.make_globals(None))

    def render_bounded(self, template: jinja2.Template, context: dict[str, Any]) -> str:
        """The rendered text, stopped as soon as it passes MAX_OUTPUT_CHARS."""
        self.loop_work = 0
        parts: list[str] = []
        size = 0
        for part in template.generate(context):
            size += len(part)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateLimit(f"output over {MAX_OUTPUT_CHARS:,} characters")
            parts.append(part)
        return "".join(parts)

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


def new_sandbox() -> ManifestSandbox:
    """StrictUndefined: a misspelt variable is an error, never an empty string."""
    return ManifestSandbox(undefined=jinja2.StrictUndefined, autoescape=False,
                           keep_trailing_newline=True)


def template_line(error: BaseException) -> int | None:
    """The template line of a runtime error: jinja2 rewrites tracebacks to template lines."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
