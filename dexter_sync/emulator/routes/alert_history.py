"""Issue-alert firing history: `GET /projects/{org}/{project}/rules/{rule_id}/group-history/`
(Sentry's ProjectRuleGroupHistoryIndexEndpoint): one item per issue the rule fired for
within `start`/`end` (or `statsPeriod`; default 14 days, unverified),
`{"group": issue, "count": firings, "lastTriggered": time, "eventId": last event id}`,
ordered by count then last firing, newest first; offset pagination. Firings are recorded
on ingestion by rulefiring.py.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, not_found, org_of, project_of, store_of
from ..discover_fields import InvalidQuery
from ..discover_search import parse_instant_ms
from ..pagination import offset_page
from ..rulefiring import KIND
from .events import parse_period
from .issues import serialize_issue

DEFAULT_PERIOD_S = 14 * 86400


def _window(request: Request) -> tuple[int, int]:
    params = request.query_params
    now = int(time.time() * 1000)
    try:
        if params.get("start") and params.get("end"):
            return parse_instant_ms(params["start"]), parse_instant_ms(params["end"])
    except InvalidQuery as error:
        raise ApiError(400, {"detail": str(error)}) from None
    seconds = parse_period(params.get("statsPeriod") or "") or DEFAULT_PERIOD_S
    return now - seconds * 1000, now


async def group_history(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    rule = store.get("issue_rule", request.path_params["rule_id"], org=org["id"])
    if rule is None or rule["projectId"] != project["id"]:
        raise not_found()
    start, end = _window(request)
    groups: dict[int, dict[str, Any]] = {}
    for fire in store.find(KIND, org["id"], scope=str(project["id"]), ruleId=rule["id"]):
        if not start <= fire["ms"] <= end:
            continue
        entry = groups.setdefault(fire["groupId"], {"count": 0, "ms": 0, "fire": fire})
        entry["count"] += 1
        if fire["ms"] >= entry["ms"]:
            entry["ms"], entry["fire"] = fire["ms"], fire
    ordered = sorted(groups.items(), key=lambda kv: (kv[1]["count"], kv[1]["ms"]), reverse=True)
    page = offset_page(request, lambda off, lim: ordered[off:off + lim])
    items = []
    for group_id, entry in page.items:
        issue = store.get("issue", group_id)
        if issue is None:
            continue
        items.append({"group": serialize_issue(store, org, issue, request=request, stats=False),
                      "count": entry["count"], "lastTriggered": entry["fire"]["dateAdded"],
                      "eventId": entry["fire"]["eventId"]})
    return json_response(items, headers=page.headers)


ROUTES = [
    ("/projects/{org}/{project}/rules/{rule_id}/group-history/", ["GET"], group_history),
]
