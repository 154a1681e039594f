"""Pydantic validation of manifest mappings, with errors turned into positioned Diagnostics.

A pydantic error location (`('triggers', 'critical', 'threshold')`, sometimes with union
branch tags in between) is walked against the data the user wrote, so the diagnostic names
the field path in manifest terms and the file:line:column of that key or value.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ..core.diagnostics import Diagnostic, did_you_mean
from ..core.sources import FieldPath
from .positions import YamlDocument

M = TypeVar("M", bound=BaseModel)

_STRUCTURAL = {"missing", "extra_forbidden"}


def validate_mapping(model: type[M], data: Any, document: YamlDocument,
                     base: FieldPath) -> tuple[M | None, list[Diagnostic]]:
    """Validate `data` (found at `base` in `document`) as `model`."""
    try:
        return model.model_validate(data), []
    except PydanticValidationError as error:
        return None, translate_errors(error, model, data, document, base)
    except RecursionError:
        return None, [Diagnostic("invalid-value", "value is nested too deeply",
                                 span=document.span(base), path=base)]


def translate_errors(error: PydanticValidationError, model: type[BaseModel], data: Any,
                     document: YamlDocument, base: FieldPath) -> list[Diagnostic]:
    grouped: dict[FieldPath, list[str]] = {}
    found: list[Diagnostic] = []
    for item in error.errors(include_url=False):
        loc = tuple(item.get("loc", ()))
        kind = item.get("type", "")
        path, leftover = _data_path(data, loc)
        if kind == "missing":
            name = leftover[-1] if leftover else (loc[-1] if loc else "?")
            found.append(Diagnostic(
                "missing-field", f"missing required field {name!r}",
                span=document.span((*base, *path), key=False), path=(*base, *path, name)))
        elif kind == "extra_forbidden":
            name = str(loc[-1]) if loc else "?"
            choices = field_names_at(model, loc[:-1])
            found.append(Diagnostic(
                "unknown-field", f"unknown field {name!r}",
                span=document.span((*base, *path)), path=(*base, *path),
                hint=did_you_mean(name, choices) or _valid_choices(choices)))
        elif kind == "literal_error" and isinstance(item.get("input"), str):
            expected = re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", "")))
            found.append(Diagnostic(
                "invalid-value", _describe(dict(item)), span=document.span((*base, *path), key=False),
                path=(*base, *path), hint=did_you_mean(item["input"], expected)))
        else:
            # one line per place: a union's branches ("a valid integer", "a valid string")
            # become one "expected ... or ..." message
            grouped.setdefault((*base, *path), []).append(_describe(dict(item)))
    for path, messages in grouped.items():
        unique = list(dict.fromkeys(messages))
        message = unique[0] if len(unique) == 1 else _join_alternatives(unique)
        found.append(Diagnostic("invalid-value", message, span=document.span(path, key=False),
                                path=path))
    return _drop_misspelt_missing(_dedupe(found))


def _drop_misspelt_missing(found: list[Diagnostic]) -> list[Diagnostic]:
    """`chanel: x` gives "unknown field 'chanel'" and "missing field 'channel'": keep the
    first, whose hint already names the missing field."""
    suggested = {(d.path, d.hint) for d in found if d.code == "unknown-field"}
    return [d for d in found if not (
        d.code == "missing-field"
        and any(path[:-1] == d.path[:-1] and hint == f"did you mean {d.path[-1]!r}?"
                for path, hint in suggested))]


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[FieldPath, tuple[Any, ...]]:
    """The part of a pydantic location that exists in the data, and what is left over.

    Parts that do not exist in the data (union branch tags like `int` or `SlackAction`,
    `function-after[...]`) are skipped; a missing field stays in the leftover.
    """
    current = data
    path: list[str | int] = []
    leftover: list[Any] = []
    for part in loc:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = (isinstance(current, list) and isinstance(part, int)
                   and 0 <= part < len(current))
        if in_dict or in_list:
            path.append(part)
            current = current[part]
            leftover = []
        else:
            leftover.append(part)
    return tuple(path), tuple(leftover)


def _describe(item: dict[str, Any]) -> str:
    message = str(item.get("msg", "invalid value"))
    if item.get("type") == "string_too_short" and item.get("ctx", {}).get("min_length") == 1:
        return "must not be empty"
    if item.get("type") == "string_pattern_mismatch":
        message = f"expected text matching {item.get('ctx', {}).get('pattern')}"
    for prefix, replacement in (("Input should be ", "expected "), ("Value error, ", ""),
                                ("Assertion failed, ", "")):
        if message.startswith(prefix):
            message = replacement + message[len(prefix):]
            break
    if item.get("type", "").startswith("value_error"):
        return message
    shown = _short_repr(item.get("input"))
    return f"{message}, got {shown}" if shown is not None else message


def _short_repr(value: Any) -> str | None:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join_alternatives(messages: list[str]) -> str:
    """`expected a valid integer, got 'x'` + `expected a valid string, got 'x'` in one line."""
    if not all(m.startswith("expected ") for m in messages):
        return "; ".join(messages)
    got = {m.rsplit(", got ", 1)[1] for m in messages if ", got " in m}
    heads = [m.rsplit(", got ", 1)[0].removeprefix("expected ") for m in messages]
    text = "expected " + " or ".join(dict.fromkeys(heads))
    if len(got) == 1:
        text += f", got {got.pop()}"
    return text


def _dedupe(found: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, FieldPath]] = set()
    unique = []
    for d in found:
        if (d.code, d.message, d.path) not in seen:
            seen.add((d.code, d.message, d.path))
            unique.append(d)
    return unique


def _valid_choices(choices: set[str]) -> str | None:
    if not choices or len(choices) > 30:
        return None
    return "valid fields: " + ", ".join(sorted(choices))


# ---- field names of models, for "did you mean" ----------------------------------------------

@functools.cache
def field_names(model: type[BaseModel]) -> frozenset[str]:
    """Names a manifest may use for the model's fields (names and aliases)."""
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(name)
        if isinstance(info.alias, str):
            names.add(info.alias)
        if isinstance(info.validation_alias, str):
            names.add(info.validation_alias)
    return frozenset(names)


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models an annotation can hold (through Optional, unions, lists, dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return models_in(typing.get_args(annotation)[0])
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(m for m in models_in(arg) if m not in found)
    return found


def field_names_at(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """Field names valid at a pydantic location inside `model`."""
    candidates = [model]
    for part in loc:
        narrowed = [c for c in candidates if c.__name__ == part]
        if narrowed:
            candidates = narrowed
            continue
        deeper: list[type[BaseModel]] = []
        for candidate in candidates:
            info = _field(candidate, part)
            if info is not None:
                deeper.extend(m for m in models_in(info.annotation) if m not in deeper)
        if deeper:
            candidates = deeper
    names: set[str] = set()
    for candidate in candidates:
        names |= field_names(candidate)
    return names


def _field(model: type[BaseModel], name: Any) -> Any:
    if not isinstance(name, str):
        return None
    if name in model.model_fields:
        return model.model_fields[name]
    return next((f for f in model.model_fields.values() if f.alias == name), None)
