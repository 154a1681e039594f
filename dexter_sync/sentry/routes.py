"""Route templates: the endpoint a path belongs to, for per-endpoint limits and metrics.

Sentry limits each endpoint (route + method) apart, and metrics grouped by concrete path
would be one line per object. After the organization (and project/team) segments, a segment is
an identifier when it is not a plain lowercase word (`discover/saved/` and `events/latest/`
are endpoints), or when it follows a collection whose ids are words (release versions):
`projects/acme/web/rules/12/` -> `projects/{org}/{project}/rules/{id}/`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..kinds.registry import all_kinds

_WORD = re.compile(r"[a-z][a-z_-]*")
# segments of the issue view's endpoints (sentry/issues.py); kinds declare their own
_ISSUE_VIEW_ID_AFTER = ("issues", "tags")

# Prefix segment -> how many identifier segments follow it (org; org+project; org+team).
_SCOPES = {"organizations": 1, "projects": 2, "teams": 2, "sentry-app-installations": 1}
_SCOPE_NAMES = {"organizations": ("{org}",), "projects": ("{org}", "{project}"),
                "teams": ("{org}", "{team}"), "sentry-app-installations": ("{uuid}",)}


def route_template(path: str) -> str:
    """The template of a path below `/api/0/` (query string ignored)."""
    return _template(path, _id_after())


def _id_after() -> frozenset[str]:
    """Segments always followed by an id: the issue view's and each kind's
    (`id_path_segments`: release versions, rule-task uuids)."""
    return frozenset(_ISSUE_VIEW_ID_AFTER).union(
        *(kind.id_path_segments for kind in all_kinds()))


@lru_cache(maxsize=4096)
def _template(path: str, id_after: frozenset[str]) -> str:
    parts = [p for p in path.split("?", 1)[0].strip("/").split("/") if p]
    if not parts:
        return "/"
    head, rest = parts[0], parts[1:]
    names = _SCOPE_NAMES.get(head, ())
    out = [head, *names[: len(rest)]]
    rest = rest[len(names):]
    for i, part in enumerate(rest):
        is_id = (i > 0 and rest[i - 1] in id_after) or not _WORD.fullmatch(part)
        out.append("{id}" if is_id else part)
    return "/".join(out) + "/"


def endpoint_key(method: str, path: str) -> str:
    """`GET projects/{org}/{project}/rules/`: the unit Sentry rate-limits and we measure."""
    return f"{method.upper()} {route_template(path)}"
