"""Rendering list pages fast: each row's serialized JSON is cached, keyed by a context (the
quirk settings and the generations of the kinds the serializer reads) and either the row's
stored text or its id within its kind's write generation, so an unchanged row is never
read, decoded, serialized or encoded twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from starlette.responses import Response

MAX_ENTRIES = 60_000


class RowViews:
    def __init__(self) -> None:
        self._cache: dict[tuple[Hashable, str], str] = {}
        self._pages: dict[tuple[str, Hashable], tuple[tuple[int, int], dict[int, str]]] = {}

    def fragments(self, context: Hashable, rows: list[str],
                  render: Callable[[dict[str, Any]], dict[str, Any]]) -> list[str]:
        """The JSON text of `render(record)` for each raw row."""
        cache = self._cache
        out = []
        for raw in rows:
            key = (context, raw)
            text = cache.get(key)
            if text is None:
                if len(cache) >= MAX_ENTRIES:
                    cache.clear()
                text = json.dumps(render(json.loads(raw)), separators=(",", ":"))
                cache[key] = text
            out.append(text)
        return out

    def page(self, store: Any, kind: str, ids: list[int], context: Hashable,
             render: Callable[[dict[str, Any]], dict[str, Any]]) -> list[str]:
        """The JSON text of `render(record)` for each id (in order); rows are read from the
        store only when their kind was written since they were rendered."""
        key = (kind, context)
        generation = store.generation(kind)
        bucket = self._pages.get(key)
        if bucket is None or bucket[0] != generation:
            if len(self._pages) >= 64:
                self._pages.clear()
            bucket = (generation, {})
            self._pages[key] = bucket
        rendered = bucket[1]
        missing = [i for i in ids if i not in rendered]
        if missing:
            for object_id, raw in store.rows_by_ids(kind, missing).items():
                rendered[object_id] = json.dumps(render(json.loads(raw)), separators=(",", ":"))
        return [rendered[i] for i in ids if i in rendered]

    def clear(self) -> None:
        self._cache.clear()
        self._pages.clear()


def context_of(request: Any, *kinds: str) -> tuple[Any, ...]:
    """What a serializer's output depends on besides the row itself."""
    state = request.app.state
    store = state.store
    return (tuple(vars(state.config.quirks).values()),
            tuple(store.generation(k) for k in kinds),
            request.url.scheme, request.url.netloc)


def list_response(fragments: list[str], headers: dict[str, str] | None = None) -> Response:
    return Response("[" + ",".join(fragments) + "]", headers=headers,
                    media_type="application/json")
