"""docs/manifest-reference.md, generated from the JSON Schemas (so from the models).

Every kind's fields (type, friendly forms as union members, allowed values, ranges,
defaults, descriptions), then every nested type once. A test regenerates and compares, so
the reference never drifts from the code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..kinds.registry import all_kinds, get_kind
from .schemas import entry_models, model_schema, resources_schema, settings_schema

_TEMPLATE = Path(__file__).with_name("templates") / "reference.md.j2"


@dataclass
class FieldRow:
    name: str
    type: str
    required: bool
    default: str
    allowed: str
    description: str


@dataclass
class TypeDoc:
    name: str
    anchor: str
    description: str
    rows: list[FieldRow]
    alternatives: str = ""
    """For a type that is not a mapping (a union or enum): its forms."""


def render_reference() -> str:
    # entry models link to their kind's section, nested models to the Types section
    _KIND_ANCHORS.clear()
    _KIND_ANCHORS.update({k.entry_model.__name__: f"kind-{k.name}" for k in all_kinds()})
    resources = resources_schema()
    defs = resources["$defs"]
    settings = settings_schema()
    kinds = []
    for section, kind in entry_models():
        name = kind.entry_model.__name__
        kinds.append({
            "kind": kind, "section": section,
            "doc": _type_doc(name, defs[name], ()), "parent": None,
        })
    for child in all_kinds():
        if child.child_of is None:
            continue
        schema = model_schema(child.entry_model)
        kinds.append({"kind": child, "section": get_kind(child.child_of).section,
                      "parent": get_kind(child.child_of).name,
                      "doc": _type_doc(child.entry_model.__name__, schema, ())})
    settings_defs = settings.get("$defs", {})
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    template = env.from_string(_TEMPLATE.read_text(encoding="utf-8"))
    text = template.render(
        settings=_type_doc("dexter.yaml", settings, ()),
        settings_types=[_type_doc(n, s, ()) for n, s in settings_defs.items()],
        kinds=kinds,
        types=[_type_doc(n, s, ()) for n, s in sorted(defs.items())
               if n not in _KIND_ANCHORS and n.removesuffix("Entry") not in _KIND_ANCHORS],
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def _type_doc(name: str, schema: dict[str, Any], _: tuple[str, ...]) -> TypeDoc:
    properties = schema.get("properties")
    required = set(schema.get("required", []))
    rows = []
    for field, spec in (properties or {}).items():
        rows.append(FieldRow(
            name=field,
            type=type_text(spec),
            required=field in required,
            default="" if spec.get("default") is None else _code(spec["default"]),
            allowed=_constraints(spec),
            description=_cell(spec.get("description", "")),
        ))
    return TypeDoc(
        name=name, anchor=anchor(name), description=_cell(schema.get("description", "")),
        rows=rows, alternatives="" if properties is not None else type_text(schema),
    )


_KIND_ANCHORS: dict[str, str] = {}


def anchor(name: str) -> str:
    if name in _KIND_ANCHORS:
        return _KIND_ANCHORS[name]
    return "type-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def type_text(spec: dict[str, Any]) -> str:
    """A JSON Schema as a short human type: `integer (1..1440) \\| string`, `list of Trigger`."""
    if "$ref" in spec:
        target = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{target}](#{anchor(target)})"
    if "const" in spec:
        return _code(spec["const"])
    if "enum" in spec:
        return "one of " + ", ".join(_code(v) for v in spec["enum"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in spec:
            # `| null` is noise in a reference: optional fields say so by not being required
            parts = [type_text(s) + _range(s) for s in spec[combinator]
                     if s.get("type") != "null"]
            return " \\| ".join(dict.fromkeys(parts))
    if "allOf" in spec and len(spec["allOf"]) == 1:
        return type_text(spec["allOf"][0])
    kind = spec.get("type")
    if kind == "array":
        items = spec.get("items")
        return f"list of {type_text(items)}" if items else "list"
    if kind == "object":
        extra = spec.get("additionalProperties")
        return f"mapping of {type_text(extra)}" if isinstance(extra, dict) and extra else "mapping"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    return kind or "any"


def _range(spec: dict[str, Any]) -> str:
    text = _constraints(spec)
    return f" ({text})" if text else ""


def _constraints(spec: dict[str, Any]) -> str:
    parts = []
    low = spec.get("minimum", spec.get("exclusiveMinimum"))
    high = spec.get("maximum", spec.get("exclusiveMaximum"))
    if low is not None or high is not None:
        left = "" if low is None else f"{low}{' <' if 'exclusiveMinimum' in spec else ' ≤'} "
        right = "" if high is None else f" {'<' if 'exclusiveMaximum' in spec else '≤'} {high}"
        parts.append(f"{left}x{right}")
    if "minLength" in spec:
        parts.append("not empty" if spec["minLength"] == 1 else f"length ≥ {spec['minLength']}")
    if "maxLength" in spec:
        parts.append(f"length ≤ {spec['maxLength']}")
    if "minItems" in spec:
        parts.append(f"at least {spec['minItems']} item{'s' if spec['minItems'] != 1 else ''}")
    if "maxItems" in spec:
        parts.append(f"at most {spec['maxItems']} items")
    if "pattern" in spec:
        parts.append(f"matches `{spec['pattern']}`")
    return _cell(", ".join(parts))


def _code(value: Any) -> str:
    return _cell(f"`{json.dumps(value, ensure_ascii=False)}`")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()
