"""Manifests: files -> templates -> YAML with positions -> pydantic models -> DesiredState.

`load_manifests(path)` is the entry point; it raises only `ValidationError`, carrying every
problem found with its file:line:column. JSON Schemas (schemas.py) and the reference doc
(reference.py) of the manifest format are generated here from the kind registry too, and
exporting.py writes live objects back as manifests. No network and no Sentry token here.
"""

from .loading import LoadedManifests, load, load_manifests

__all__ = ["LoadedManifests", "load", "load_manifests"]
