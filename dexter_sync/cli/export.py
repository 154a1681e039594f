"""`dexter export`: write manifests of the live organization (no manifests needed).

The output validates and plans to zero changes: every entry is the kind's own
`export(live)` form, read through the same `canonical` the planner compares.
"""

from __future__ import annotations

from typing import Any, cast

import click
from pydantic import BaseModel

from ..core.diagnostics import DexterError, did_you_mean
from ..core.state import DesiredResource, DesiredState, LiveState, ManifestSettings
from ..kinds.registry import all_kinds, get_kind
from ..manifest.exporting import ExportResult, build_export, write_tree
from .common import (
    DEFAULT_CONCURRENCY,
    connect,
    local_settings_org,
    resolve_org,
    run,
    sentry_options,
)
from .progress import reading_progress


def resolve_kinds(names: tuple[str, ...]) -> list[str]:
    """Kind names from `--kinds` values (kind names or sections, comma-separated too)."""
    kinds = all_kinds()
    if not names:
        return [k.name for k in kinds]
    chosen: list[str] = []
    for text in (part.strip() for name in names for part in name.split(",")):
        if not text:
            continue
        matched = [k.name for k in kinds if text in (k.name, k.section)]
        if not matched:
            options = sorted({k.name for k in kinds} | {k.section for k in kinds})
            hint = did_you_mean(text, options)
            raise DexterError(f"--kinds: unknown kind {text!r}" + (f"; {hint}" if hint else ""),
                              code="unknown-kind")
        chosen += [m for m in matched if m not in chosen]
    # children come with their parents (deploys with releases)
    chosen += [k.name for k in kinds if k.child_of in chosen and k.name not in chosen]
    return chosen


class _Parent(BaseModel):
    """Stands in for a declared parent entry: kinds read children per declared parent."""


async def read_for_export(facade: Any, organization: str, kinds: list[str],
                          projects: list[str] | None = None) -> LiveState:
    """Every live object of `kinds` (children of every live parent: all deploys of all
    releases), in the given projects or all of them."""
    directory = await facade.read_directory()
    scope = projects if projects else sorted(directory.projects)
    unknown = [p for p in scope if p not in directory.projects]
    if unknown:
        hint = did_you_mean(unknown[0], directory.projects)
        raise DexterError(f"--projects: no project {unknown[0]!r} in {organization}"
                          + (f"; {hint}" if hint else ""), code="unknown-project")
    parents = [k for k in kinds if get_kind(k).child_of is None]
    live = await facade.read_state(parents, projects=scope, all_details=True)
    children = [k for k in kinds if get_kind(k).child_of is not None]
    if children:
        # kinds read children per declared parent; "declare" every live parent
        wanted = DesiredState(ManifestSettings(organization=organization, root=""), [
            DesiredResource(kind=child, key="", entry=_Parent(), parent_key=obj.key)
            for child in children for obj in live.of_kind(get_kind(child).child_of or "")])
        extra = await facade.read_state(children, projects=scope, desired=wanted)
        for child in children:
            live.objects[child] = extra.of_kind(child)
    return cast("LiveState", live)


async def export_live(*, sentry_url: str | None, organization: str, kinds: list[str],
                      projects: list[str] | None,
                      concurrency: int = DEFAULT_CONCURRENCY) -> ExportResult:
    async with (connect(sentry_url=sentry_url, organization=organization,
                        concurrency=concurrency) as facade,
                reading_progress(facade, organization)):
        live = await read_for_export(facade, organization, kinds, projects)
    return build_export(live, organization=organization, kinds=kinds)


@click.command(name="export")
@click.option("--out", "out_dir", default="sentry", show_default=True,
              type=click.Path(file_okay=False), help="Directory to write the manifests to.")
@click.option("--force", is_flag=True, help="Write into a non-empty directory that an "
              "earlier export did not create (files of the same names are replaced; "
              "nothing is removed).")
@click.option("--kinds", "kind_names", multiple=True,
              help="Kinds or sections to export (repeatable or comma-separated; default all).")
@click.option("--projects", "project_names", multiple=True,
              help="Projects to export project-level objects of (default all).")
@sentry_options
def command(out_dir: str, force: bool, kind_names: tuple[str, ...], project_names: tuple[str, ...],
            sentry_url: str | None, org: str | None, concurrency: int) -> None:
    """Write manifests describing the live organization to --out (needs no manifests)."""
    organization = resolve_org(org, local_settings_org())
    kinds = resolve_kinds(kind_names)
    projects = [p.strip() for name in project_names for p in name.split(",") if p.strip()]
    result = run(export_live(sentry_url=sentry_url, organization=organization, kinds=kinds,
                             projects=projects or None, concurrency=concurrency))
    target = write_tree(result.files, out_dir, force=force)
    total = sum(result.counts.values())
    by_kind = ", ".join(f"{n} {k}" for k, n in result.counts.items()) or "nothing"
    click.echo(f"Exported {total} object{'s' if total != 1 else ''} ({by_kind}) from "
               f"{organization} to {target}")
    for line in result.left_out:
        click.echo(f"Left out by design: {line}.")
    for line in result.skipped:
        click.echo(f"skipped {line}", err=True)
    if result.skipped:
        raise PartialExport(len(result.skipped))


class PartialExport(DexterError):
    """The files were written, but some live objects are not in them (listed on stderr):
    exit 3, like an apply that left changes undone, so a script never takes it as whole."""

    exit_code = 3

    def __init__(self, left_out: int) -> None:
        super().__init__(f"the export is partial: {left_out} live object"
                         f"{'s' if left_out != 1 else ''} left out (listed above)",
                         code="export-partial")
