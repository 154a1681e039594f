"""`dexter query`: run a Discover query through Sentry's events endpoints and print it.

    dexter query "Errors by release" --path sentry/     # declared in the manifests (or saved)
    dexter query --field release --field 'count()' --query 'event.type:error' --period 24h
    dexter query NAME --format csv | json               # --chart adds the time series

Results go through the gateway's TTL cache, kept on disk in `.dexter/cache/` for
`--cache-ttl` seconds, so repeated runs within it do not ask Sentry again (`--verbose`
says hit or miss).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..core.diagnostics import DexterError, did_you_mean
from ..core.discover_query import DiscoverQuery, from_saved_body, from_saved_entry
from ..core.requests import ApiRequest, path_segment
from ..manifest import load
from ..render.chart import chart as draw_chart
from ..render.results import table_csv, table_json, table_text
from ..sentry.discover import run_series, run_table
from ..sentry.facade import SentryFacade
from ..sentry.query_cache import install_query_cache
from .common import connect, global_options, notice, resolve_org, run, sentry_options

DEFAULT_TTL = 60.0


def declared_queries(path: Path) -> tuple[dict[str, DiscoverQuery], str | None]:
    """Discover queries the manifests at `path` declare (by name), and their organization."""
    if not (path / "dexter.yaml").exists() and not path.is_file():
        return {}, None
    loaded = load(path)
    found = {}
    for resource in loaded.state.of_kind("discover_query"):
        entry: Any = resource.entry
        found[entry.name] = from_saved_entry(entry, spans=resource.field_spans,
                                             span=resource.span)
    return found, loaded.state.settings.organization


async def saved_query(facade: SentryFacade, name: str, declared: list[str]) -> DiscoverQuery:
    """The saved query called `name` in Sentry; an `unknown-query` error naming the closest."""
    # every saved query, not a `name:` search: the closest name is the hint when none matches
    request = ApiRequest("GET", f"organizations/{path_segment(facade.organization)}/"
                                "discover/saved/")
    names: list[str] = []
    async for page in facade.gateway.pages(request):
        for body in page.body if isinstance(page.body, list) else []:
            if isinstance(body, dict) and body.get("name") == name:
                return from_saved_body(body)
            if isinstance(body, dict):
                names.append(str(body.get("name")))
    hint = did_you_mean(name, [*declared, *names])
    raise DexterError(f"no Discover query named {name!r} in the manifests or in Sentry"
                      + (f" ({hint})" if hint else ""), code="unknown-query")


@click.command(name="query")
@click.argument("name", required=False)
@click.option("--path", "path", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="Manifest directory declaring NAME.")
@click.option("--field", "fields", multiple=True, help="A column or function (repeatable).")
@click.option("--query", "search", default=None, help="Search query, e.g. 'level:error'.")
@click.option("--sort", "sort", multiple=True, help="A selected field; '-' for descending.")
@click.option("--period", default=None, help="Stats period such as 24h or 14d.")
@click.option("--project", "projects", multiple=True, help="Project slug (repeatable).")
@click.option("--environment", "environments", multiple=True, help="Environment (repeatable).")
@click.option("--dataset", type=click.Choice(["discover", "errors", "transactions"]),
              default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Most rows to read.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--chart", is_flag=True, help="Also draw the time series in the terminal.")
@click.option("--interval", default=None, help="Time-series bucket, e.g. 1h (with --chart).")
@click.option("--cache-ttl", type=click.FloatRange(min=0), default=DEFAULT_TTL,
              show_default=True, help="Seconds a result is reused (0: no cache).")
@sentry_options
def command(name: str | None, path: Path, fields: tuple[str, ...], search: str | None,
            sort: tuple[str, ...], period: str | None, projects: tuple[str, ...],
            environments: tuple[str, ...], dataset: str | None, limit: int, fmt: str,
            chart: bool, interval: str | None, cache_ttl: float, sentry_url: str | None,
            org: str | None, concurrency: int) -> None:
    """Run the Discover query NAME (declared in the manifests at --path, else saved in
    Sentry), or an ad-hoc one from --field/--query/--period, and print its rows."""
    if name is None and not fields:
        raise click.UsageError("give a query NAME, or --field (at least one) for an ad-hoc query")
    declared, manifest_org = declared_queries(path) if name else ({}, None)
    organization = resolve_org(org, manifest_org)
    adhoc = DiscoverQuery(fields=fields, query=search or "", sort=sort, projects=projects,
                          environments=environments, dataset=dataset, interval=interval)

    async def fetch() -> tuple[DiscoverQuery, Any, Any]:
        async with connect(sentry_url=sentry_url, organization=organization,
                           concurrency=concurrency) as facade:
            cache = install_query_cache(facade.gateway, ttl=cache_ttl) if cache_ttl else None
            if name is None:
                query = adhoc.with_period(period)
            else:
                named = declared.get(name) or await saved_query(facade, name, list(declared))
                query = refine(named.with_period(period), adhoc)
            before = (cache.hits, cache.misses) if cache else (0, 0)
            table = await run_table(facade.gateway, organization, query, limit=limit)
            series = await run_series(facade.gateway, organization, query) if chart else None
            if cache is not None and global_options().verbose:
                hits, misses = cache.hits - before[0], cache.misses - before[1]
                notice(f"query cache: {'hit' if hits and not misses else 'miss'} "
                       f"({hits} hit{'s' if hits != 1 else ''}, {misses} "
                       f"miss{'es' if misses != 1 else ''}; ttl {cache_ttl:g}s)")
            return query, table, series

    query, table, series = run(fetch())
    columns = list(query.fields)
    if fmt == "json":
        click.echo(table_json(columns, table.rows, table.meta, truncated=table.truncated,
                              series=None if series is None else [
                                  {"yAxis": s.y_axis, "points": s.points} for s in series]))
        return
    click.echo(table_csv(columns, table.rows) if fmt == "csv"
               else table_text(columns, table.rows, table.meta))
    if table.truncated and fmt == "table":
        click.echo(f"(first {limit} rows; --limit for more)")
    for one in series or []:
        click.echo("")
        click.echo(draw_chart(one.y_axis, one.points))


def refine(query: DiscoverQuery, options: DiscoverQuery) -> DiscoverQuery:
    """Command-line options applied to a named query: `--query` adds a filter, the others
    replace what the query declares."""
    changes: dict[str, Any] = {}
    if options.query:
        changes["query"] = f"({query.query}) {options.query}" if query.query else options.query
    for attr in ("fields", "sort", "projects", "environments", "dataset", "interval"):
        if getattr(options, attr):
            changes[attr] = getattr(options, attr)
    return replace(query, **changes) if changes else query


