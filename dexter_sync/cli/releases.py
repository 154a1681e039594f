"""`dexter releases compare A B [--project P]`: is release B a regression of release A?

Reads both releases from Sentry's events table (sentry/release_numbers.py) and prints the
verdict of core/release_compare.py with the numbers behind it: events, errors and error rate
per release, new and resolved issues. `--detailed-exitcode` exits 2 on a regression.
"""

from __future__ import annotations

import json

import click

from ..core.release_compare import CompareSettings, ReleaseComparison
from ..sentry.release_numbers import DEFAULT_PERIOD, compare_releases
from .common import connect, resolve_org, run, sentry_options

LISTED_ISSUES = 10


@click.group(name="releases")
def command() -> None:
    """Look at releases as Sentry sees them."""


@command.command(name="compare")
@click.argument("base")
@click.argument("candidate")
@click.option("--project", default=None, help="Only this project's events (slug).")
@click.option("--environment", default=None, help="Only this environment's events.")
@click.option("--period", default=DEFAULT_PERIOD, show_default=True,
              help="How far back to count events (Sentry's statsPeriod: 24h, 14d, ...).")
@click.option("--max-ratio", type=click.FloatRange(min=1.0), default=1.5, show_default=True,
              help="Error-rate ratio (candidate / base) from which it is a regression.")
@click.option("--min-z", type=float, default=3.0, show_default=True,
              help="Two-proportion z-score the difference must reach.")
@click.option("--min-events", type=click.IntRange(min=1), default=100, show_default=True,
              help="Fewer events in a release: no verdict.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when B is a regression.")
@sentry_options
def compare_command(base: str, candidate: str, project: str | None, environment: str | None,
                    period: str, max_ratio: float, min_z: float, min_events: int, fmt: str,
                    detailed_exitcode: bool, sentry_url: str | None, org: str | None,
                    concurrency: int) -> None:
    """Compare release CANDIDATE with release BASE: new and resolved issues, events and
    error rate per release, and a verdict (regression or not) with the numbers."""
    organization = resolve_org(org)
    settings = CompareSettings(max_rate_ratio=max_ratio, min_z=min_z, min_events=min_events)

    async def fetch() -> ReleaseComparison:
        async with connect(sentry_url=sentry_url, organization=organization,
                           concurrency=concurrency) as facade:
            return await compare_releases(facade.gateway, organization, base, candidate,
                                          project=project, environment=environment,
                                          period=period, settings=settings)

    comparison = run(fetch())
    if fmt == "json":
        click.echo(json.dumps(comparison.as_dict(), indent=2, sort_keys=True))
    else:
        click.echo(render_comparison(comparison))
    if detailed_exitcode and comparison.regression:
        raise SystemExit(2)


def render_comparison(comparison: ReleaseComparison) -> str:
    """The text view (pure)."""
    lines = [(f"{comparison.candidate.version} vs {comparison.base.version}: "
             f"{comparison.verdict.upper()}")]
    for numbers in (comparison.base, comparison.candidate):
        rate = numbers.error_rate
        lines.append(f"  {numbers.version}: {numbers.events} events, {numbers.errors} errors, "
                     f"error rate {'n/a' if rate is None else f'{rate * 100:.2f}%'}, "
                     f"{len(numbers.issues)} issues")
    lines += [f"  {reason}" for reason in comparison.reasons]
    for title, issues in (("new issues", comparison.new_issues),
                          ("resolved issues", comparison.resolved_issues)):
        shown = ", ".join(issues[:LISTED_ISSUES])
        more = f" (+{len(issues) - LISTED_ISSUES} more)" if len(issues) > LISTED_ISSUES else ""
        lines.append(f"  {title}: {shown + more if issues else 'none'}")
    return "\n".join(lines)
