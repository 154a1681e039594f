"""`dexter export`: the live organization as manifest files (live -> YAML).

Each live object becomes `kind.export(data)` (friendly forms; Sentry's own form only where
none exists), filed per section, and per project for project-scoped kinds
(`metric_alerts.yaml`, `issue_alerts/<project>.yaml`). Child kinds (deploys) are nested in
their parent's entry; file names are safe slugs of server values. A `dexter.yaml` lists
exactly the files written, and `schemas/` holds the JSON Schemas the files'
yaml-language-server modelines name. `exporttree.write_tree` writes them without touching
anything the export did not write.
Ambiguous objects (two live objects with one natural key) are left out and reported: a
manifest cannot declare both, and the plan lists them as ambiguous.
"""

from __future__ import annotations

import logging
import typing
from dataclasses import dataclass, field
from typing import Any, cast

import yaml

from ..core.state import LiveObject, LiveState
from ..kinds.registry import all_kinds, get_kind
from .exporttree import safe_slug, write_tree

__all__ = ["ExportResult", "build_export", "dump_yaml", "write_tree"]

log = logging.getLogger(__name__)

SCHEMA_DIR = "schemas"
MODELINE = "# yaml-language-server: $schema={path}\n"


@dataclass
class ExportResult:
    files: dict[str, str] = field(default_factory=dict)
    """Relative path -> file text, dexter.yaml included."""
    counts: dict[str, int] = field(default_factory=dict)
    """Kind name -> objects exported."""
    skipped: list[str] = field(default_factory=list)
    """`kind/key: why` for live objects left out."""
    left_out: list[str] = field(default_factory=list)
    """`section: why` for kinds export leaves out by design (external-issue links)."""


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line strings as `|` blocks, no aliases (stable, readable output)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=100)


def _file_for(kind: Any, obj: LiveObject) -> str:
    if kind.scope == "project" and obj.project:
        return f"{kind.section}/{safe_slug(obj.project)}.yaml"
    return f"{kind.section}.yaml"


def _child_field(parent: Any, child: Any) -> str | None:
    """The parent entry field that holds the child kind's entries (`deploys`)."""
    for name, info in parent.entry_model.model_fields.items():
        if child.entry_model in typing.get_args(info.annotation):
            return cast("str | None", name)
    return None


def _exported(kind: Any, obj: LiveObject, directory: Any, skipped: list[str]) -> dict[str, Any] | None:
    try:
        return cast("dict[str, Any] | None", kind.export(obj.data, directory=directory))
    except Exception as error:  # one unreadable object must not sink the whole export
        log.debug("cannot export %s/%s", kind.name, obj.key, exc_info=True)
        skipped.append(f"{kind.name}/{obj.key}: cannot be expressed as a manifest entry "
                       f"({type(error).__name__})")
        return None


def build_export(live: LiveState, *, organization: str,
                 kinds: list[str] | None = None) -> ExportResult:
    """Manifest files describing `live` (pure: no file is written)."""
    result = ExportResult()
    wanted = [k for k in all_kinds() if kinds is None or k.name in kinds]
    sections: dict[str, dict[str, list[dict[str, Any]]]] = {}
    """file -> section -> entries"""
    parents: dict[tuple[str, str], dict[str, Any]] = {}
    """(kind, key) -> exported mapping, for nesting children"""
    result.left_out = [f"{kind.name.replace('_', ' ')}s ({kind.not_exported})"
                       for kind in wanted if kind.not_exported]
    for kind in [k for k in wanted if k.child_of is None] + [k for k in wanted if k.child_of]:
        groups: dict[str, list[LiveObject]] = {}
        for obj in live.of_kind(kind.name):
            groups.setdefault(obj.key, []).append(obj)
        for key in sorted(groups):
            group = groups[key]
            if len(group) > 1:
                ids = ", ".join(sorted(o.id for o in group))
                result.skipped.append(f"{kind.name}/{key}: ambiguous (live ids {ids})")
                continue
            mapping = _exported(kind, group[0], live.directory, result.skipped)
            if mapping is None:
                continue
            if kind.child_of:
                if not _nest(kind, key, mapping, parents):
                    result.skipped.append(f"{kind.name}/{key}: its parent is not exported")
                    continue
            else:
                entries = sections.setdefault(_file_for(kind, group[0]), {})
                entries.setdefault(kind.section, []).append(mapping)
                parents[(kind.name, key)] = mapping
            result.counts[kind.name] = result.counts.get(kind.name, 0) + 1
    for name, by_section in sorted(sections.items()):
        depth = name.count("/")
        schema = "../" * depth + f"{SCHEMA_DIR}/resources.schema.json"
        result.files[name] = MODELINE.format(path=schema) + dump_yaml(by_section)
    result.files["dexter.yaml"] = (
        MODELINE.format(path=f"{SCHEMA_DIR}/dexter.schema.json")
        + dump_yaml({"version": 1, "organization": organization,
                     "include": _includes(sorted(sections))}))
    result.files.update(schema_files())
    return result


def _nest(kind: Any, key: str, mapping: dict[str, Any],
          parents: dict[tuple[str, str], dict[str, Any]]) -> bool:
    parent_kind = get_kind(kind.child_of)
    holder = _child_field(parent_kind, kind)
    # a child's key starts with its parent's key (`<version>/<environment>/<name>`)
    candidates = [pk for (pkind, pk) in parents if pkind == parent_kind.name
                  and key.startswith(pk + "/")]
    if holder is None or not candidates:
        return False
    parent = parents[(parent_kind.name, max(candidates, key=len))]
    parent.setdefault(holder, []).append(mapping)
    return True


def _includes(files: list[str]) -> list[str]:
    """Include globs that each match at least one written file."""
    globs: list[str] = []
    for name in files:
        pattern = name if "/" not in name else name.rsplit("/", 1)[0] + "/*.yaml"
        if pattern not in globs:
            globs.append(pattern)
    return globs


def schema_files() -> dict[str, str]:
    """The JSON Schemas a manifest tree's modelines name, by relative path."""
    from .schemas import (
        RESOURCES_SCHEMA_FILE,
        SETTINGS_SCHEMA_FILE,
        resources_schema,
        schema_text,
        settings_schema,
    )

    return {
        f"{SCHEMA_DIR}/{SETTINGS_SCHEMA_FILE}": schema_text(settings_schema()),
        f"{SCHEMA_DIR}/{RESOURCES_SCHEMA_FILE}": schema_text(resources_schema()),
    }
