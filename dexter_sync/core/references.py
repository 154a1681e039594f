"""Reference checks at plan time: every name a manifest uses must exist in the live org.

All misses are collected (file:line of the field, the closest existing name) and reported
together before any write, so one run shows every broken reference.
"""

from __future__ import annotations

from collections.abc import Iterable

from .contract import KindCatalog
from .diagnostics import Diagnostic, did_you_mean
from .directory import SYSTEM_DETECTOR_TYPES, Directory
from .state import DesiredState


def desired_projects(desired: DesiredState, kinds: KindCatalog) -> set[str]:
    """Project slugs the manifests refer to (read scope for project-level kinds)."""
    slugs: set[str] = set()
    for r in desired.resources:
        slugs.update(ref.name for ref in kinds.get(r.kind).references(r.entry)
                     if ref.kind == "project")
    return slugs


def check_references(desired: DesiredState, directory: Directory,
                     kinds: KindCatalog) -> list[Diagnostic]:
    """Diagnostics (code `unknown-reference`) for names the live organization does not have."""
    # a name a declared entry provides (a repository this plan connects) counts as existing
    provided: dict[str, set[str]] = {}
    for r in desired.resources:
        supplies = kinds.get(r.kind).provides_reference
        if supplies is not None:
            provided.setdefault(supplies, set()).add(r.key)
    found: list[Diagnostic] = []
    for resource in desired.resources:
        for ref in kinds.get(resource.kind).references(resource.entry):
            declared = provided.get(ref.kind, set())
            if ref.name in declared:
                continue
            problem = _check(ref.kind, ref.name, ref.provider, ref.scope, directory)
            if problem is None:
                continue
            message, choices = problem[0], problem[1] + sorted(declared)
            found.append(Diagnostic(
                code="unknown-reference",
                message=message,
                span=resource.span_for(ref.path),
                path=ref.path,
                hint=did_you_mean(ref.name, choices) or _existing(choices),
            ))
    return found


def _existing(choices: Iterable[str]) -> str | None:
    names = sorted(choices)
    if not names:
        return None
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"existing: {shown}"


def _check(kind: str, name: str, provider: str | None, scope: str | None,
           directory: Directory) -> tuple[str, list[str]] | None:
    """None when the name exists, else (message, names to suggest from)."""
    org = directory.organization
    if kind == "project":
        if directory.project_id(name) is None:
            return f"project {name!r} does not exist in {org}", list(directory.projects)
    elif kind == "team":
        if directory.team_id(name) is None:
            return f"team {name!r} does not exist in {org}", list(directory.teams)
    elif kind == "member":
        if directory.user_id(name) is None:
            return f"member {name!r} is not a member of {org}", list(directory.members)
    elif kind == "environment":
        if name not in directory.environments:
            return f"environment {name!r} does not exist in {org}", sorted(directory.environments)
    elif kind == "integration":
        if directory.integration(name, provider) is None:
            names = [i.name for i in directory.integrations.values()
                     if provider is None or i.provider == provider]
            what = f"{provider} integration" if provider else "integration"
            label = repr(name) if name else "(none named; there is not exactly one installed)"
            return f"{what} {label} is not installed in {org}", names
    elif kind == "repository":
        if directory.repository(name) is None:
            names = [r.name for r in directory.repositories.values()]
            return f"repository {name!r} is not connected to {org}", names
    elif kind == "monitor":
        if directory.detector_id(name) is None:
            names = [d.name for d in directory.detectors.values()
                     if d.type not in SYSTEM_DETECTOR_TYPES]
            return f"monitor {name!r} is neither declared nor in {org}", names
    elif kind == "issue":
        if name in directory.missing_issues:
            return f"issue {name!r} does not exist in {org}", []
    elif kind == "slack_channel":
        return _check_channel(name, scope, directory)
    return None


def _check_channel(name: str, scope: str | None,
                   directory: Directory) -> tuple[str, list[str]] | None:
    """A Slack channel is checked only against a complete listing of its workspace.

    Channels the facade learns from live rules are a subset (a new channel is simply not
    used yet), so a miss there proves nothing; only a workspace listed in `directory.slack_channel_listings` (ids of workspaces whose every channel is known)
    allows the check.
    """
    workspace = directory.integration(scope or "", "slack")
    if workspace is None:
        return None  # the integration reference itself reports the missing workspace
    if workspace.id not in directory.slack_channel_listings:
        return None
    known = [ch for (integration_id, ch) in directory.slack_channels
             if integration_id == workspace.id]
    wanted = "#" + name.lstrip("#")
    if wanted in known or name in known:
        return None
    return f"Slack channel {wanted!r} does not exist in workspace {workspace.name!r}", known
