"""Rendering list pages fast: each stored row's serialized JSON is cached, keyed by the
row's stored text and a context (the quirk settings and the generations of the kinds the
serializer reads), so an unchanged row is never decoded, serialized or encoded twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from starlette.responses import Response

MAX_ENTRIES = 60_000


class RowViews:
    def __init__(self) -> None:
        self._cache: dict[tuple[Hashable, str], str] = {}

    def fragments(self, context: Hashable, rows: list[str],
                  render: Callable[[dict], dict]) -> list[str]:
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

    def clear(self) -> None:
        self._cache.clear()


def context_of(request: Any, *kinds: str) -> tuple:
    """What a serializer's output depends on besides the row itself."""
    state = request.app.state
    store = state.store
    return (tuple(vars(state.config.quirks).values()),
            tuple(store.generation(k) for k in kinds),
            request.url.scheme, request.url.netloc)


def list_response(fragments: list[str], headers: dict[str, str] | None = None) -> Response:
    return Response("[" + ",".join(fragments) + "]", headers=headers,
                    media_type="application/json")
