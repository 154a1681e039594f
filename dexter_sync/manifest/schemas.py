"""JSON Schemas of the manifest format, generated from the pydantic models via the registry.

`dexter.schema.json` describes dexter.yaml; `resources.schema.json` describes an included
file (its sections, each entry's model; in a shared section, one variant per `type`).
Editors with yaml-language-server use them through a `# yaml-language-server: $schema=...`
modeline.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..kinds.base import ResourceKind
from ..kinds.registry import kinds_in_section, sections
from .loading import INCLUDE_KEY
from .settings import SettingsFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SETTINGS_SCHEMA_FILE = "dexter.schema.json"
RESOURCES_SCHEMA_FILE = "resources.schema.json"


def settings_schema() -> dict[str, Any]:
    schema = SettingsFile.model_json_schema()
    return {"$schema": DRAFT, "title": "dexter.yaml", **schema}


def entry_models() -> list[tuple[str, ResourceKind[Any]]]:
    """(section, kind) for every kind with its own entries, in registry order."""
    return [(s, k) for s in sections() for k in kinds_in_section(s)]


def resources_schema() -> dict[str, Any]:
    listed = entry_models()
    refs, top = models_json_schema([(k.entry_model, "validation") for _, k in listed],
                                   ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top.get("$defs", {})
    properties: dict[str, Any] = {}
    for section in sections():
        variants = []
        for kind in kinds_in_section(section):
            ref = refs[(kind.entry_model, "validation")]["$ref"]
            variants.append(_tagged(kind, ref, defs) if kind.type_tag else {"$ref": ref})
        items = variants[0] if len(variants) == 1 else {"oneOf": variants}
        properties[section] = {"type": "array", "items": items,
                               "description": _section_text(section)}
    properties[INCLUDE_KEY] = {
        "type": "array", "items": {"type": "string"},
        "description": "More resource files to load, as globs relative to this file.",
    }
    return {
        "$schema": DRAFT,
        "title": "dexter resource file",
        "description": "A file included from dexter.yaml: lists of entries by section.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "$defs": defs,
    }


def _tagged(kind: ResourceKind[Any], ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    """A copy of the kind's entry schema with its required `type: <tag>` added.

    A copy, not `allOf`, because the entry schema forbids properties it does not list.
    """
    name = ref.rsplit("/", 1)[-1]
    tagged = copy.deepcopy(defs[name])
    tagged["properties"] = {
        "type": {"const": kind.type_tag, "description": f"Marks a {kind.name} entry."},
        **tagged.get("properties", {}),
    }
    tagged["required"] = ["type", *tagged.get("required", [])]
    defs[f"{name}Entry"] = tagged
    return {"$ref": f"#/$defs/{name}Entry"}


def _section_text(section: str) -> str:
    kinds = kinds_in_section(section)
    if len(kinds) == 1:
        return kinds[0].title or kinds[0].name
    return "Entries with `type`: " + ", ".join(f"{k.type_tag} ({k.title or k.name})"
                                               for k in kinds)


def schema_text(schema: dict[str, Any]) -> str:
    """The committed form: stable key order as generated, two-space indent, final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(ref_template="#/$defs/{model}")
