"""Response shapes and status codes REFERENCE.md documents, checked one by one.

Each check is an async function `(ContractContext) -> str` (what it saw) that raises
CheckFailed (request + difference) or CheckSkipped (why it cannot run here). `CHECKS`
lists them with whether they write; `--read-only` runs only the ones that do not. Objects
a check creates are named inside the sandbox and deleted by the check (and by the sweep
if the run is interrupted).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..core.directory import Directory
from ..core.requests import ApiRequest, ApiResponse, path_segment
from ..core.state import DesiredState
from ..kinds.base import ReadContext, ResourceKind
from ..kinds.registry import get_kind
from ..sentry.errors import BadRequest, NotFound, SentryHTTPError
from ..sentry.facade import SentryFacade
from .results import CheckFailed, CheckSkipped
from .samples import TRACKER_PROVIDERS, Target

RATE_HEADERS = ("x-sentry-rate-limit-limit", "x-sentry-rate-limit-remaining",
                "x-sentry-rate-limit-reset")
_LINK = re.compile(r'<(?P<url>[^>]*)>;\s*rel="(?P<rel>[^"]*)";\s*results="(?P<results>[^"]*)";'
                   r'\s*cursor="(?P<cursor>[^"]*)"')
TOLERANCE = 1e-6


@dataclass
class ContractContext:
    facade: SentryFacade
    target: Target
    desired: DesiredState
    """The samples as manifests (scopes listings that need a declared parent)."""
    read_only: bool
    unserved: dict[str, str] = field(default_factory=dict)
    """kind -> why the target does not serve it (its list answered 404); the lifecycle
    skips these kinds with that reason."""

    @property
    def org(self) -> str:
        return path_segment(self.facade.organization)

    @property
    def directory(self) -> Directory:
        return self.target.directory

    def name(self, suffix: str) -> str:
        return self.target.sandbox.name(suffix)

    def project(self) -> str:
        if self.target.project is None:
            raise CheckSkipped("the organization has no project")
        return self.target.project

    async def send(self, request: ApiRequest) -> ApiResponse:
        return await self.facade.send(request)


ContractCheck = Callable[[ContractContext], Awaitable[str]]


def _type(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


def _same_number(a: Any, b: Any) -> bool:
    return (isinstance(a, (int, float)) and isinstance(b, (int, float))
            and math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE))


# ---- listings (read-only) ---------------------------------------------------------------


def _uses_base_items(kind: ResourceKind[Any]) -> bool:
    return type(kind).items is ResourceKind.items


async def list_shape(ctx: ContractContext, kind_name: str) -> str:
    """The kind's list endpoint answers a JSON array (a kind that reads another shape, such
    as an issue detail, must find its items in it without error)."""
    kind = get_kind(kind_name)
    rctx = ReadContext(organization=ctx.facade.organization, directory=ctx.directory,
                       projects=[ctx.target.project] if ctx.target.project else [],
                       desired=ctx.desired.of_kind(kind_name))
    try:
        listings = kind.list_requests(rctx)
    except Exception as error:  # noqa: BLE001 -- kinds that list per parent need the parent's live state
        raise CheckSkipped(f"{kind_name} lists per parent object: {error}") from None
    if not listings:
        raise CheckSkipped(f"{kind_name} has nothing to list in this organization")
    listing = listings[0]
    request = listing.request
    try:
        response = await ctx.send(request)
    except NotFound:
        ctx.unserved[kind_name] = f"the target does not serve {request.route} (404)"
        raise CheckSkipped(ctx.unserved[kind_name]) from None
    body = response.body
    if _uses_base_items(kind) and not isinstance(body, list):
        shown = f"an object with keys {sorted(body)[:8]}" if isinstance(body, dict) else _type(body)
        raise CheckFailed(f"request: {request.route}; expected a JSON array "
                          f"(REFERENCE.md §3.2), got {shown}")
    if not isinstance(body, (list, dict)):
        raise CheckFailed(f"request: {request.route}; expected JSON, got {_type(body)}")
    items = kind.items(body, listing)
    return f"{request.route}: {response.status}, {len(items)} item(s)"


def parse_link(header: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in _LINK.finditer(header)]


async def pagination_link(ctx: ContractContext) -> str:
    """REFERENCE.md §3.2: `Link` with `previous` then `next`, results and cursor."""
    request = ApiRequest("GET", f"organizations/{ctx.org}/projects/", params={"per_page": 1})
    response = await ctx.send(request)
    header = response.headers.get("link")
    if not header:
        raise CheckFailed(f"request: {request.route}; no Link header in the answer")
    links = parse_link(header)
    if [link["rel"] for link in links] != ["previous", "next"]:
        raise CheckFailed(f"request: {request.route}; expected Link entries previous, next; "
                          f"got {[link['rel'] for link in links]} in {header!r}")
    previous, nxt = links
    if previous["results"] != "false":
        raise CheckFailed(f"request: {request.route}; the first page's previous link says "
                          f"results={previous['results']!r}, expected \"false\"")
    if not isinstance(response.body, list) or len(response.body) > 1:
        raise CheckFailed(f"request: {request.route}; expected an array of at most 1 item, got "
                          f"{_type(response.body)} of {len(response.body or [])}")
    if nxt["results"] != "true":
        return f"{request.route}: one page only ({header})"
    second = await ctx.send(ApiRequest("GET", request.path,
                                       params={"per_page": 1, "cursor": nxt["cursor"]}))
    if not isinstance(second.body, list) or second.body == response.body:
        raise CheckFailed(f"request: GET /api/0/{request.path}?cursor={nxt['cursor']}; "
                          "the next page repeats the first or is not an array")
    return f"{request.route}: previous/next links followed to page 2"


async def rate_limit_headers(ctx: ContractContext) -> str:
    """REFERENCE.md §3.3: Limit, Remaining, Reset (epoch seconds) together, or none."""
    request = ApiRequest("GET", f"organizations/{ctx.org}/projects/")
    response = await ctx.send(request)
    present = {h: response.headers[h] for h in RATE_HEADERS if h in response.headers}
    if not present:
        raise CheckSkipped(f"{request.route} carries no rate-limit headers (self-hosted "
                           "Sentry does not rate-limit)")
    missing = [h for h in RATE_HEADERS if h not in present]
    if missing:
        raise CheckFailed(f"request: {request.route}; has {sorted(present)} but not {missing}")
    bad = [h for h, v in present.items() if not re.fullmatch(r"\d+", v.strip())]
    if bad:
        raise CheckFailed(f"request: {request.route}; not an integer: "
                          + ", ".join(f"{h}={present[h]!r}" for h in bad))
    reset = int(present["x-sentry-rate-limit-reset"])
    if not time.time() - 3600 <= reset <= time.time() + 86400:
        raise CheckFailed(f"request: {request.route}; X-Sentry-Rate-Limit-Reset={reset} is not "
                          "epoch seconds near now")
    return f"{request.route}: " + ", ".join(f"{h}={v}" for h, v in present.items())


# ---- writes -----------------------------------------------------------------------------


def payload_for(kind_name: str, entry: dict[str, Any], directory: Directory) -> dict[str, Any]:
    kind = get_kind(kind_name)
    return kind.build_payload(kind.entry_model.model_validate(entry), directory=directory)


async def delete_quietly(ctx: ContractContext, path: str) -> None:
    try:
        await ctx.send(ApiRequest("DELETE", path))
    except NotFound:
        pass


async def release_208(ctx: ContractContext) -> str:
    """§5 / §14.8: POST is get-or-create: 201 for a new release, 208 for the same again;
    ids are integers."""
    version = ctx.name("208")
    body = {"version": version, "projects": [ctx.project()]}
    request = ApiRequest("POST", f"organizations/{ctx.org}/releases/", json=body)
    try:
        first = await ctx.send(request)
        second = await ctx.send(request)
        got = (first.status, second.status)
        if got != (201, 208):
            raise CheckFailed(f"request: {request.route} twice with {body}; expected statuses "
                              f"(201, 208), got {got}")
        ids = [r.body.get("id") if isinstance(r.body, dict) else None for r in (first, second)]
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids) or ids[0] != ids[1]:
            raise CheckFailed(f"request: {request.route}; expected one integer id in both answers "
                              f"(REFERENCE.md §14.11), got {ids!r}")
    finally:
        await delete_quietly(ctx, f"organizations/{ctx.org}/releases/{path_segment(version)}/")
    return f"{request.route}: 201 then 208, id {ids[0]}"


def issue_rule(ctx: ContractContext, name: str) -> dict[str, Any]:
    return payload_for("issue_alert", {
        "name": name, "project": ctx.project(), "conditions": ["first_seen_event"],
        "filters": [{"tagged_event": {"key": "dexter_selftest", "match": "eq",
                                      "value": ctx.name("duplicate")}}],
        "actions": [{"email": {"target": "issue_owners", "fallthrough": "active_members"}}],
        "frequency": 30}, ctx.directory)


async def exact_duplicate(ctx: ContractContext) -> str:
    """§2.1 / §14.6: a second rule equal in all but name answers 400 with `name` and
    `ruleId`; an issue-rule create answers 200."""
    path = f"projects/{ctx.org}/{path_segment(ctx.project())}/rules/"
    first = ApiRequest("POST", path, json=issue_rule(ctx, ctx.name("rule-a")))
    created = await ctx.send(first)
    rule_id = created.body.get("id") if isinstance(created.body, dict) else None
    try:
        if created.status != 200 or rule_id is None:
            raise CheckFailed(f"request: {first.route}; expected 200 with the rule "
                              f"(REFERENCE.md §14.6), got {created.status} {created.body!r:.200}")
        second = ApiRequest("POST", path, json=issue_rule(ctx, ctx.name("rule-b")))
        try:
            answer = await ctx.send(second)
        except BadRequest as error:
            body = error.body if isinstance(error.body, dict) else {}
            names = body.get("name")
            if (not isinstance(names, list) or not names
                    or "exact duplicate" not in str(names[0])
                    or body.get("ruleId") != [int(rule_id)]):
                raise CheckFailed(f"request: {second.route}; expected 400 {{\"name\": [\"This rule "
                                  f"is an exact duplicate of ...\"], \"ruleId\": [{rule_id}]}}, "
                                  f"got {error.body!r:.300}") from None
            return f"{second.route}: 400 exact duplicate of rule {rule_id}"
        extra = answer.body.get("id") if isinstance(answer.body, dict) else None
        if extra is not None:
            await delete_quietly(ctx, f"{path}{path_segment(extra)}/")
        raise CheckFailed(f"request: {second.route}; expected 400 exact duplicate, got "
                          f"{answer.status}")
    finally:
        if rule_id is not None:
            await delete_quietly(ctx, f"{path}{path_segment(rule_id)}/")


def email_action(ctx: ContractContext) -> dict[str, Any]:
    """A raw email action to a team (or a member): needs no integration."""
    if ctx.target.team:
        return {"type": "email", "targetType": "team",
                "targetIdentifier": ctx.directory.teams[ctx.target.team]}
    if ctx.target.member:
        return {"type": "email", "targetType": "user",
                "targetIdentifier": ctx.directory.members[ctx.target.member]}
    raise CheckSkipped("the organization has no team or member to notify")


def _thresholds(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {"resolveThreshold": body.get("resolveThreshold")}
    for trigger in body.get("triggers") or []:
        if isinstance(trigger, dict):
            out[f"triggers[{trigger.get('label')}].alertThreshold"] = trigger.get("alertThreshold")
    return out


async def threshold_translation(ctx: ContractContext) -> str:
    """§1.3: percent-change rules take the change (30 = +30%) and read back the same number,
    above and below; the server translates before its threshold checks."""
    path = f"organizations/{ctx.org}/alert-rules/"
    cases = [("above", 30, 10), ("below", 80, 50)]
    seen: list[str] = []
    created: list[str] = []
    try:
        for direction, critical, resolve in cases:
            # written by hand, not by dexter's models: this checks the server
            payload = {"name": ctx.name(f"percent-{direction}"), "aggregate": "count()",
                       "query": "", "dataset": "events", "timeWindow": 5,
                       "thresholdType": 0 if direction == "above" else 1,
                       "comparisonDelta": 60, "resolveThreshold": resolve,
                       "projects": [ctx.project()],
                       "triggers": [{"label": "critical", "alertThreshold": critical,
                                     "actions": [email_action(ctx)]}]}
            request = ApiRequest("POST", path, json=payload)
            try:
                answer = await ctx.send(request)
            except BadRequest as error:
                raise CheckFailed(f"request: {request.route} ({direction}, critical {critical}, "
                                  f"resolve {resolve}, comparisonDelta 60); Sentry refused it: "
                                  f"{error.detail} (REFERENCE.md §1.3: translate, then check)"
                                  ) from None
            rule_id = answer.body.get("id") if isinstance(answer.body, dict) else None
            if rule_id is None:
                raise CheckFailed(f"request: {request.route}; no rule in the answer "
                                  f"({answer.status})")
            created.append(str(rule_id))
            detail = await ctx.send(ApiRequest("GET", f"{path}{path_segment(rule_id)}/"))
            sent = {"resolveThreshold": resolve, "triggers[critical].alertThreshold": critical}
            for source, body in (("POST answer", answer.body), ("detail GET", detail.body)):
                got = _thresholds(body)
                wrong = {k: got.get(k) for k, v in sent.items() if not _same_number(got.get(k), v)}
                if wrong:
                    raise CheckFailed(
                        f"request: {request.route} ({direction}, comparisonDelta 60); {source}: "
                        + "; ".join(f"{k}: sent {sent[k]}, read {v!r}" for k, v in wrong.items())
                        + " (REFERENCE.md §1.3: stored as 100 ± x, returned translated back)")
            seen.append(f"{direction} {critical}/{resolve}")
    finally:
        for rule_id in created:
            await delete_quietly(ctx, f"{path}{path_segment(rule_id)}/")
    return "percent-change thresholds read back as sent: " + ", ".join(seen)


async def slack_task(ctx: ContractContext) -> str:
    """§1.2: a Slack action naming a channel by name answers 202 {"uuid"}; the rule task
    then succeeds with the rule."""
    slack = next((i for i in ctx.directory.integrations.values() if i.provider == "slack"), None)
    if slack is None:
        raise CheckSkipped("the organization has no Slack integration")
    channels_path = (f"organizations/{ctx.org}/integrations/{path_segment(slack.id)}/channels/")
    try:
        listing = await ctx.send(ApiRequest("GET", channels_path))
    except SentryHTTPError as error:
        raise CheckSkipped(f"no Slack channel known: GET /api/0/{channels_path} answered "
                           f"{error.status}") from None
    body = listing.body
    items = body.get("results") if isinstance(body, dict) else body
    names = [str(c.get("name")) for c in items or [] if isinstance(c, dict) and c.get("name")]
    if not names:
        raise CheckSkipped(f"GET /api/0/{channels_path} lists no channel")
    channel = "#" + names[0].lstrip("#")
    project = ctx.project()
    payload = payload_for("metric_alert", {
        "name": ctx.name("slack"), "project": project, "aggregate": "count()",
        "time_window": 5, "threshold_type": "above",
        "triggers": {"critical": {"threshold": 100, "actions": [
            {"slack": {"channel": channel, "workspace": slack.name}}]}}}, ctx.directory)
    for trigger in payload["triggers"]:
        for action in trigger["actions"]:
            action.pop("inputChannelId", None)  # by name only: the asynchronous lookup path
    path = f"organizations/{ctx.org}/alert-rules/"
    request = ApiRequest("POST", path, json=payload)
    answer = await ctx.send(request)
    rule_id: Any = answer.body.get("id") if isinstance(answer.body, dict) else None
    try:
        uuid = answer.body.get("uuid") if isinstance(answer.body, dict) else None
        if answer.status != 202 or not isinstance(uuid, str):
            raise CheckFailed(f"request: {request.route} with Slack channel {channel} by name; "
                              f"expected 202 {{\"uuid\": ...}}, got {answer.status} "
                              f"{answer.body!r:.200}")
        task = await ctx.facade.poll_task(project, uuid, kind="metric_alert")
        rule = task.get("alertRule") or task.get("rule")
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        if rule_id is None:
            raise CheckFailed(f"GET .../alert-rule-task/{uuid}/ succeeded without the rule: "
                              f"{task!r:.200}")
        return f"{request.route}: 202, task {uuid} succeeded with rule {rule_id}"
    finally:
        if rule_id is not None:
            await delete_quietly(ctx, f"{path}{path_segment(rule_id)}/")


async def external_issue_listings(ctx: ContractContext) -> str:
    """§9.2: the issue detail with `expand=integrationIssues` and the issue's integrations
    listing both show a link, row ids as strings; the link PUT answers int ids."""
    issue = ctx.target.issue
    if issue is None:
        raise CheckSkipped("the organization has no issue to read")
    issue_path = f"organizations/{ctx.org}/issues/{path_segment(issue)}/"
    tracker = ctx.target.integration(TRACKER_PROVIDERS)
    link: dict[str, Any] | None = None
    link_path = f"{issue_path}integrations/{path_segment(tracker.id)}/" if tracker else ""
    if not ctx.read_only and tracker is not None:
        put = ApiRequest("PUT", link_path, json={"externalIssue": ctx.name("listing")})
        answer = await ctx.send(put)
        link = answer.body if isinstance(answer.body, dict) else None
        if (link is None or not isinstance(link.get("id"), int)
                or not isinstance(link.get("integrationId"), int)):
            raise CheckFailed(f"request: {put.route}; expected {{\"id\": int, \"integrationId\": "
                              f"int, \"key\", ...}} (REFERENCE.md §9.2), got {answer.body!r:.200}")
    try:
        return await _read_listings(ctx, issue_path, tracker.id if tracker else None, link)
    finally:
        if link is not None:
            try:
                await ctx.send(ApiRequest("DELETE", link_path,
                                          params={"externalIssue": str(link["id"])}))
            except NotFound:
                pass


async def _read_listings(ctx: ContractContext, issue_path: str, tracker_id: str | None,
                         link: dict[str, Any] | None) -> str:
    detail_req = ApiRequest("GET", issue_path, params={"expand": "integrationIssues"})
    detail = (await ctx.send(detail_req)).body
    if not isinstance(detail, dict) or not isinstance(detail.get("integrationIssues"), list):
        raise CheckFailed(f"request: {detail_req.route}?expand=integrationIssues; expected an "
                          f"object with an `integrationIssues` list, got "
                          f"{sorted(detail) if isinstance(detail, dict) else _type(detail)}")
    listing_req = ApiRequest("GET", f"{issue_path}integrations/")
    listing = (await ctx.send(listing_req)).body
    if not isinstance(listing, list) or not all(
            isinstance(i, dict) and isinstance(i.get("externalIssues"), list) for i in listing):
        raise CheckFailed(f"request: {listing_req.route}; expected a list of integrations each "
                          f"with `externalIssues`, got {listing!r:.200}")
    if link is None:
        return f"{detail_req.route} and {listing_req.route}: shapes as documented (no link written)"
    key, row_id = link.get("key"), str(link["id"])
    in_detail = [i for i in detail["integrationIssues"] if i.get("key") == key]
    if [i.get("id") for i in in_detail] != [row_id]:
        raise CheckFailed(f"request: {detail_req.route}?expand=integrationIssues; expected the "
                          f"link {key} once with id {row_id!r} (a string), got {in_detail!r:.300}")
    if not in_detail[0].get("integrationName"):
        raise CheckFailed(f"request: {detail_req.route}; the link lacks `integrationName`")
    owner = [i for i in listing if str(i.get("id")) == str(tracker_id)]
    in_listing = [x for i in owner for x in i["externalIssues"] if x.get("key") == key]
    if [x.get("id") for x in in_listing] != [row_id]:
        raise CheckFailed(f"request: {listing_req.route}; expected the link {key} under "
                          f"integration {tracker_id} with id {row_id!r}, got {in_listing!r:.300}")
    return f"link {key} listed in both ({detail_req.route}, {listing_req.route})"
