"""Sentry's `Link` pagination header (REFERENCE §3.2).

    <https://…/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"

Cursors are opaque: the client only hands back what the server gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTRY = re.compile(r'<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[\w-]+="[^"]*")*)')
_PARAM = re.compile(r'([\w-]+)="([^"]*)"')


@dataclass(frozen=True)
class PageLink:
    rel: str
    url: str
    results: bool
    cursor: str | None


def parse_link_header(value: str | None) -> dict[str, PageLink]:
    """rel -> PageLink for every entry of a `Link` header (empty for None or garbage)."""
    links: dict[str, PageLink] = {}
    for match in _ENTRY.finditer(value or ""):
        params = dict(_PARAM.findall(match.group("params")))
        rel = params.get("rel")
        if rel:
            links[rel] = PageLink(rel=rel, url=match.group("url"),
                                  results=params.get("results", "false").lower() == "true",
                                  cursor=params.get("cursor"))
    return links


def next_cursor(value: str | None) -> str | None:
    """The cursor of the next page, or None when the list is complete (`results="false"`)."""
    link = parse_link_header(value).get("next")
    return link.cursor if link and link.results and link.cursor else None
