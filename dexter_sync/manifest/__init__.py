"""Manifests: files -> templates -> YAML with positions -> pydantic models -> DesiredState.

`load_manifests(path)` is the entry point; it raises only `ValidationError`, carrying every
problem found with its file:line:column. JSON Schemas and the reference doc of the manifest
format are generated here from the kind registry too. No network and no Sentry token here:
the loader reads files and nothing else.
"""

from .loading import LoadedManifests, load, load_manifests

__all__ = ["LoadedManifests", "load", "load_manifests"]
