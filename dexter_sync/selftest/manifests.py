"""The samples as a real manifest directory, loaded the way `dexter plan` loads one, so the
selftest plans and applies through the same loader, models, payloads and normalization."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from ..core.state import DesiredState
from ..kinds.registry import get_kind
from ..manifest import load_manifests
from .samples import Sample


def manifest_sections(samples: Iterable[Sample], updated: Iterable[str] = ()) -> dict[str, list[Any]]:
    """`{section: [entries]}`; kinds in `updated` carry their update fields."""
    changed = set(updated)
    entries: dict[str, dict[str, Any]] = {}
    sections: dict[str, list[Any]] = {}
    ordered = list(samples)
    for sample in ordered:
        if sample.parent is not None:
            continue
        kind = get_kind(sample.kind)
        entry = sample.updated() if sample.kind in changed else dict(sample.entry)
        if kind.type_tag:
            entry = {"type": kind.type_tag, **entry}
        entries[sample.kind] = entry
        sections.setdefault(kind.section, []).append(entry)
    for sample in ordered:
        if sample.parent is not None and sample.parent[0] in entries:
            parent_kind, field_name = sample.parent
            entries[parent_kind].setdefault(field_name, []).append(dict(sample.entry))
    return sections


def write_and_load(root: Path, organization: str, samples: Iterable[Sample],
                   updated: Iterable[str] = ()) -> DesiredState:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dexter.yaml").write_text(yaml.safe_dump(
        {"version": 1, "organization": organization, "include": ["selftest.yaml"]},
        sort_keys=False), encoding="utf-8")
    (root / "selftest.yaml").write_text(
        yaml.safe_dump(manifest_sections(samples, updated), sort_keys=False), encoding="utf-8")
    return load_manifests(root)
