"""Sentry's `Link`-header cursor pagination, both cursor families (REFERENCE.md §3.2).

A cursor is `value:offset:is_prev`. Offset lists use value = page size and offset = page
number; key-ordered lists use value = sort key of the first row of the page and offset =
rows to skip among equal keys.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from .api import ApiError

INVALID_CURSOR = ApiError(400, {"detail": "Invalid cursor parameter."})


@dataclass(frozen=True)
class Cursor:
    value: int
    offset: int
    is_prev: bool

    def __str__(self) -> str:
        return f"{self.value}:{self.offset}:{int(self.is_prev)}"


def parse_cursor(request: Request) -> Cursor | None:
    raw = request.query_params.get("cursor")
    if raw is None or raw == "":
        return None
    parts = raw.split(":")
    if len(parts) != 3:
        raise INVALID_CURSOR
    try:
        value, offset, is_prev = int(float(parts[0])), int(parts[1]), int(parts[2])
    except (ValueError, OverflowError):
        raise INVALID_CURSOR from None
    if is_prev not in (0, 1) or abs(value) >= 2**63 or abs(offset) >= 2**31:
        raise INVALID_CURSOR
    return Cursor(value, offset, bool(is_prev))


def parse_per_page(request: Request, default: int = 100, maximum: int = 100) -> int:
    raw = request.query_params.get("per_page")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, {"detail": "Invalid per_page parameter."}) from None
    if value > maximum:
        raise ApiError(400, {"detail": f"Invalid per_page value. Cannot exceed {maximum}."})
    if value < 1:
        raise ApiError(400, {"detail": "Invalid per_page parameter."})
    return value


def link_header(request: Request, prev: tuple[Cursor, bool], nxt: tuple[Cursor, bool]) -> str:
    """`<base&cursor=..>; rel="previous"; results=..; cursor="..", <..>; rel="next"...`."""
    public = request.app.state.config.public_url
    base = (public.rstrip("/") if public else str(request.base_url).rstrip("/")) + request.url.path
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    base += "?" + urlencode(params)

    def one(name: str, cursor: Cursor, results: bool) -> str:
        return (f'<{base}&cursor={cursor}>; rel="{name}"; results="{str(results).lower()}"; '
                f'cursor="{cursor}"')

    return ", ".join([one("previous", *prev), one("next", *nxt)])


@dataclass
class Page:
    items: list[Any]
    headers: dict[str, str]


def offset_page(request: Request, fetch: Callable[[int, int], list[Any]], *,
                default: int = 100, hits: int | None = None) -> Page:
    """An OffsetPaginator page; `fetch(offset, limit)` returns up to `limit` rows."""
    per_page = parse_per_page(request, default)
    cursor = parse_cursor(request) or Cursor(per_page, 0, False)
    if cursor.offset < 0:
        raise ApiError(400, {"detail": "Pagination offset cannot be negative"})
    size = cursor.value if cursor.value > 0 else per_page
    rows = fetch(cursor.offset * size, per_page + 1)
    has_next = len(rows) > per_page
    items = rows[:per_page]
    headers = {"Link": link_header(
        request, (Cursor(per_page, cursor.offset - 1, True), cursor.offset > 0),
        (Cursor(per_page, cursor.offset + 1, False), has_next))}
    if hits is not None:
        headers["X-Hits"] = str(hits)
        headers["X-Max-Hits"] = str(max(hits, 1000))
    return Page(items, headers)


def keyed_page(request: Request, rows: Sequence[Any], key: Callable[[Any], int], *,
               default: int = 100, hits: int | None = None) -> Page:
    """A Paginator page over `rows` already sorted by `key` descending (ids, timestamps)."""
    per_page = parse_per_page(request, default)
    cursor = parse_cursor(request)
    if cursor is None or (cursor.value == 0 and not cursor.is_prev):
        start = 0
        if cursor is not None:
            start = max(cursor.offset, 0)
    elif cursor.is_prev:
        # rows strictly above the cursor key, the last `per_page` of them
        above = [i for i, row in enumerate(rows) if key(row) > cursor.value]
        start = max(len(above) - per_page - max(cursor.offset, 0), 0)
    else:
        first = next((i for i, row in enumerate(rows) if key(row) <= cursor.value), len(rows))
        start = first + max(cursor.offset, 0)
    window = list(rows[start:start + per_page + 1])
    has_next = len(window) > per_page
    items = window[:per_page]
    if has_next:
        nxt = Cursor(key(window[-1]), 0, False)
    elif items:
        nxt = Cursor(key(items[-1]), 1, False)
    else:
        nxt = cursor or Cursor(0, 0, False)
    prev = Cursor(key(items[0]), 0, True) if items and start > 0 else Cursor(0, 0, True)
    headers = {"Link": link_header(request, (prev, start > 0), (nxt, has_next))}
    if hits is not None:
        headers["X-Hits"] = str(hits)
        headers["X-Max-Hits"] = str(max(hits, 1000))
    return Page(items, headers)


def id_page(request: Request, fetch: Callable[[int | None, int, int], list[tuple[int, Any]]],
            *, default: int = 100, hits: int | None = None,
            fetch_all: Callable[[], list[tuple[int, Any]]] | None = None) -> Page:
    """A Paginator page of a list ordered by `-id`, fetched page by page:
    `fetch(max_id or None, offset, limit)` returns `(id, row)` pairs, highest id first.
    Items are the rows. Backward (`is_prev`) cursors read the whole list (`fetch_all`)."""
    per_page = parse_per_page(request, default)
    cursor = parse_cursor(request)
    if cursor is not None and cursor.is_prev and fetch_all is not None:
        page = keyed_page(request, fetch_all(), lambda r: r[0], default=default, hits=hits)
        page.items = [row for _, row in page.items]
        return page
    max_id = cursor.value if cursor is not None and cursor.value > 0 else None
    offset = max(cursor.offset, 0) if cursor is not None else 0
    window = fetch(max_id, offset, per_page + 1)
    has_next, items = len(window) > per_page, window[:per_page]
    has_prev = max_id is not None or offset > 0
    if has_next:
        nxt = Cursor(window[-1][0], 0, False)
    elif items:
        nxt = Cursor(items[-1][0], 1, False)
    else:
        nxt = cursor or Cursor(0, 0, False)
    prev = Cursor(items[0][0], 0, True) if items and has_prev else Cursor(0, 0, True)
    headers = {"Link": link_header(request, (prev, has_prev), (nxt, has_next))}
    if hits is not None:
        headers["X-Hits"] = str(hits)
        headers["X-Max-Hits"] = str(max(hits, 1000))
    return Page([row for _, row in items], headers)
