"""`dexter init [DIR]`: a valid manifest tree to start from.

Without `--export` it writes a commented `dexter.yaml`, one resource file with a single
issue alert, and the JSON Schemas editors complete fields from. With `--export` the
resource files come from the live organization instead (`dexter export` into DIR). It never
overwrites a file: an existing dexter.yaml or resource file is an error.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..core.diagnostics import DexterError
from ..manifest.exporting import MODELINE, SCHEMA_DIR, schema_files, write_tree
from .common import local_settings_org, resolve_org, run, sentry_options

RESOURCE_FILE = "alerts.yaml"

SETTINGS_TEMPLATE = """\
# dexter manifests for the Sentry organization {organization!r}.
#   dexter validate {shown}     offline checks, every error with file:line
#   dexter plan {shown}         what would change in Sentry
#   dexter apply {shown}        make the changes
# Field reference: docs/manifest-reference.md in dexter's repository.
version: 1
organization: {organization}
# vars: {{oncall_channel: "#oncall"}}       # template variables: "{{{{ vars.oncall_channel }}}}"
# defaults: {{environment: production}}     # values every entry gets unless it sets its own
# prune: {{issue_alerts: [{project}]}}        # let dexter delete undeclared objects (per kind)
include:
  - "*.yaml"
"""

RESOURCE_TEMPLATE = """\
# One issue alert to start from: email the issue's owners when {project} sees a new issue.
# Add metric_alerts, discover_queries, releases and integration_links lists here or in
# more files next to this one.
issue_alerts:
  - name: New issues
    project: {project}
    conditions: [first_seen_event]
    actions:
      - email: {{target: issue_owners, fallthrough: active_members}}
"""


def starter_files(organization: str, project: str, shown: str) -> dict[str, str]:
    """Relative path -> text of the starter tree (schemas included)."""
    files = {
        "dexter.yaml": MODELINE.format(path=f"{SCHEMA_DIR}/dexter.schema.json")
        + SETTINGS_TEMPLATE.format(organization=organization, project=project, shown=shown),
        RESOURCE_FILE: MODELINE.format(path=f"{SCHEMA_DIR}/resources.schema.json")
        + RESOURCE_TEMPLATE.format(project=project),
    }
    files.update(schema_files())
    return files


def write_new_files(root: Path, files: dict[str, str]) -> list[Path]:
    """Write every file, or none when any already exists (never overwrite)."""
    existing = [root / name for name in files if (root / name).exists()]
    if existing:
        raise DexterError(f"{existing[0]} already exists: `dexter init` never overwrites; "
                          "pick an empty directory", code="init-target")
    written = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:  # "x": fail rather than overwrite
            handle.write(text)
        written.append(path)
    return written


@click.command(name="init")
@click.argument("directory", default="sentry", type=click.Path(file_okay=False))
@click.option("--project", default="backend", show_default=True,
              help="Project the starter alert watches.")
@click.option("--export", "from_live", is_flag=True,
              help="Fill DIRECTORY from the live organization (`dexter export`) instead.")
@sentry_options
def command(directory: str, project: str, from_live: bool, sentry_url: str | None,
            org: str | None, concurrency: int) -> None:
    """Start a manifest tree in DIRECTORY (default `sentry`) for the organization."""
    organization = resolve_org(org, local_settings_org())
    root = Path(directory)
    if from_live:
        from .export import export_live, resolve_kinds

        result = run(export_live(sentry_url=sentry_url, organization=organization,
                                 kinds=resolve_kinds(()), projects=None,
                                 concurrency=concurrency))
        write_tree(result.files, root)
        total = sum(result.counts.values())
        click.echo(f"Wrote {root}/ from {organization}: {total} object"
                   f"{'s' if total != 1 else ''}. Next: dexter plan {directory}")
        return
    write_new_files(root, starter_files(organization, project, directory))
    click.echo(f"Wrote {root}/dexter.yaml and {root}/{RESOURCE_FILE} for {organization}. "
               f"Next: dexter validate {directory} && dexter plan {directory}")
