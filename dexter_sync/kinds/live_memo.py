"""A memo for the live-side canonical fast paths, alive only inside `memo_scope`.

Rules of a plan repeat the same few actions and nodes (one team's email, one Slack channel),
and converting one costs a validation round trip. The result depends on the node and the
Directory only, and the Directory does not change while a plan is being made, so the planner
opens a scope around its reading of live objects; outside a scope nothing is remembered.
"""

from __future__ import annotations

import contextlib
import contextvars
import marshal
from collections.abc import Callable, Iterator
from typing import Any

from ..core.directory import Directory
from .fields import sort_key

_SCOPE: contextvars.ContextVar[tuple[Directory, dict[Any, Any]] | None] = \
    contextvars.ContextVar("dexter_live_memo", default=None)


@contextlib.contextmanager
def memo_scope(directory: Directory) -> Iterator[None]:
    """Remember conversions made with `directory` until the block ends."""
    token = _SCOPE.set((directory, {}))
    try:
        yield
    finally:
        _SCOPE.reset(token)


def memoized(key: Any, directory: Directory, compute: Callable[[], Any]) -> Any:
    """`compute()`, remembered under `key` while a scope for this directory is open.

    `key` must tell apart every input `compute` reads (use `repr` of JSON values: it keeps
    1, 1.0, True and "1" apart, which hashing would not)."""
    scope = _SCOPE.get()
    if scope is None or scope[0] is not directory:
        return compute()
    memo = scope[1]
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value



def frozen(value: Any) -> tuple[bytes, str]:
    """A JSON value kept in the memo: its marshal bytes (each use gets a fresh copy, built in
    C) and its order key in `sorted_canonical`."""
    return marshal.dumps(value), sort_key(value)




def sorted_thawed(kept: list[tuple[bytes, str]]) -> list[Any]:
    """`sorted_canonical` of the kept values, ordered by their stored keys (the same keys,
    the same stable sort)."""
    if len(kept) > 1:
        kept = sorted(kept, key=_order)
    return [marshal.loads(k[0]) for k in kept]


def _order(kept: tuple[bytes, str]) -> str:
    return kept[1]
