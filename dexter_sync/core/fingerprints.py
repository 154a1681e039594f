"""Fingerprints of live objects: a hash of the canonical form, for stale-plan detection.

The canonical form (the same one the planner compares) is hashed, not the raw JSON, so a
reordered list or a re-stringified number is not "a change since the plan".
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from .contract import KindCatalog, KindContract
from .directory import Directory
from .state import LiveObject, LiveState

log = logging.getLogger(__name__)


# built once: json.dumps with options builds a new encoder per call (one per live object)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def digest(value: Any) -> str:
    text = _ENCODER.encode(value)
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_live(kind: KindContract, obj: LiveObject,
                   directory: Directory) -> dict[str, Any] | None:
    """The kind's `canonical_live` of the object, or None when the kind cannot read it."""
    try:
        return kind.canonical_live(obj.data, directory=directory)
    except Exception as error:  # noqa: BLE001 - an odd live object must not break the plan
        log.debug("cannot normalize live %s/%s: %s", obj.kind, obj.key, error)
        return None


def fingerprint(obj: LiveObject, canonical: dict[str, Any] | None) -> str:
    """Hash of the canonical form; of the raw object when the kind could not read it."""
    return digest(canonical if canonical is not None else {"raw": obj.data})


def combine(hashes: list[str]) -> str:
    """One fingerprint for several live objects sharing a key (ambiguous)."""
    return hashes[0] if len(hashes) == 1 else digest(sorted(hashes))


def fingerprints_of(live: LiveState, kinds: KindCatalog) -> dict[str, str]:
    """`kind/key` -> fingerprint for every object in a live state."""
    grouped: dict[str, list[str]] = {}
    for name, objects in live.objects.items():
        kind = kinds.get(name)
        for obj in objects:
            grouped.setdefault(f"{obj.kind}/{obj.key}", []).append(
                fingerprint(obj, canonical_live(kind, obj, live.directory)))
    return {address: combine(hashes) for address, hashes in sorted(grouped.items())}
