"""Organization-level objects: the org itself, projects, teams, members, environments,
integrations, repositories and project keys (DSNs)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..api import actor_of, json_response, not_found, org_of, project_of, store_of
from ..pagination import offset_page
from ..seeding import PROVIDERS, find_by
from ..store import Store


def serialize_org(org: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(org["id"]), "slug": org["slug"], "name": org["name"],
            "dateCreated": org["dateCreated"], "isEarlyAdopter": False, "require2FA": False,
            "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
            "status": {"id": "active", "name": "active"},
            "features": ["incidents", "discover", "discover-query", "performance-view"],
            "links": {"organizationUrl": f"/organizations/{org['slug']}/",
                      "regionUrl": ""},
            "hasAuthProvider": False, "allowMemberInvite": True, "allowMemberProjectCreation": True,
            "allowSuperuserAccess": True}


def serialize_team(team: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(team["id"]), "slug": team["slug"], "name": team["name"],
            "dateCreated": team["dateCreated"], "isMember": True, "teamRole": "admin",
            "flags": {"idp:provisioned": False}, "access": ["project:read", "team:read"],
            "hasAccess": True, "isPending": False, "memberCount": 1,
            "avatar": {"avatarType": "letter_avatar", "avatarUuid": None}}


def serialize_project(store: Store, org: dict[str, Any], project: dict[str, Any]) -> dict[str, Any]:
    teams = [t for t in (store.get("team", tid) for tid in project.get("teams", [])) if t]
    return {"id": str(project["id"]), "slug": project["slug"], "name": project["name"],
            "platform": project.get("platform"), "dateCreated": project["dateCreated"],
            "isBookmarked": False, "isMember": True, "hasAccess": True, "isPublic": False,
            "isInternal": False, "hasMinifiedStackTrace": False, "hasMonitors": False,
            "hasProfiles": False, "hasReplays": False, "hasSessions": False,
            "hasFeedbacks": False, "hasNewFeedbacks": False, "hasFlags": False,
            "hasInsightsHttp": False, "hasInsightsDb": False,
            "hasInsightsAssets": False, "hasInsightsAppStart": False,
            "hasInsightsScreenLoad": False, "hasInsightsVitals": False,
            "hasInsightsCaches": False, "hasInsightsQueues": False,
            "hasInsightsAgentMonitoring": False, "hasInsightsMCP": False, "hasLogs": False,
            "hasTraceMetrics": False,
            "firstEvent": project.get("firstEvent"), "firstTransactionEvent": False,
            "color": "#3f70bf", "status": "active", "features": [], "platforms": [],
            "latestRelease": None, "hasUserReports": False, "hasAccessOrgRole": True,
            "environments": sorted(project.get("environments", [])),
            "avatar": {"avatarType": "letter_avatar", "avatarUuid": None},
            "organization": {"id": str(org["id"]), "slug": org["slug"], "name": org["name"]},
            "team": serialize_team(teams[0]) if teams else None,
            "teams": [serialize_team(t) for t in teams],
            "access": ["project:read", "project:write", "project:releases", "event:read",
                       "event:write", "alerts:read", "alerts:write"]}


# Fields only the project detail serializer adds, with a new project's defaults.
PROJECT_DETAIL_DEFAULTS = {
    "allowedDomains": ["*"], "autofixAutomationTuning": "off", "builtinSymbolSources": [],
    "dataScrubber": True, "dataScrubberDefaults": True, "debugFilesRole": None,
    "defaultEnvironment": None, "derivedGroupingEnhancements": "", "digestsMaxDelay": 1800,
    "digestsMinDelay": 300, "dynamicSamplingBiases": None, "enableAutoReleaseCreation": True,
    "fingerprintingRules": "", "groupingConfig": "newstyle:2023-01-11",
    "groupingEnhancements": "", "highlightContext": {},
    "highlightPreset": {"tags": ["level", "environment"], "context": {}},
    "highlightTags": [], "isDynamicallySampled": False, "options": {}, "processingIssues": 0,
    "relayPiiConfig": None, "resolveAge": 0, "safeFields": [], "scmSourceContextEnabled": True,
    "scrapeJavaScript": True, "scrubIPAddresses": False, "secondaryGroupingConfig": None,
    "secondaryGroupingExpiry": 0, "securityToken": "0" * 32, "securityTokenHeader": None,
    "seerNightshiftTweaks": None, "seerScannerAutomation": False, "sensitiveFields": [],
    "storeCrashReports": None, "subjectPrefix": "", "subjectTemplate": "$shortID - $title",
    "symbolSources": "[]", "tempestFetchScreenshots": False, "verifySSL": False}


def serialize_member(member: dict[str, Any]) -> dict[str, Any]:
    user = {"id": str(member["userId"]), "name": member["name"], "username": member["email"],
            "email": member["email"], "isActive": True, "hasPasswordAuth": True,
            "isManaged": False, "dateJoined": member["dateCreated"], "lastLogin": None,
            "has2fa": False, "lastActive": None, "isSuperuser": False, "isStaff": False,
            "isSuspended": False, "experiments": {},
            "emails": [{"id": str(member["userId"]), "email": member["email"],
                        "is_verified": True}],
            "avatar": {"avatarType": "letter_avatar", "avatarUuid": None}, "avatarUrl": ""}
    return {"id": str(member["id"]), "email": member["email"], "name": member["name"],
            "user": user, "orgRole": member["role"], "role": member["role"],
            "roleName": member["role"].title(), "pending": False, "expired": False,
            "flags": {"idp:provisioned": False, "idp:role-restricted": False,
                      "sso:linked": False, "sso:invalid": False, "member-limit:restricted": False,
                      "partnership:restricted": False},
            "dateCreated": member["dateCreated"], "inviteStatus": "approved",
            "inviterName": None, "teams": [], "teamRoles": []}


def serialize_integration(org: dict[str, Any], integ: dict[str, Any]) -> dict[str, Any]:
    provider = PROVIDERS[integ["provider"]]
    return {"id": str(integ["id"]), "name": integ["name"], "icon": None,
            "domainName": f"{integ['name'].lower().replace(' ', '-')}.example.com",
            "accountType": None, "scopes": None, "status": "active", "outOfDate": False,
            "provider": {"key": integ["provider"], "slug": integ["provider"],
                         "name": provider["name"], "canAdd": True, "canDisable": False,
                         "features": provider["features"], "aspects": {}},
            "configOrganization": [], "configData": {}, "externalId": integ["externalId"],
            "organizationId": int(org["id"]), "organizationIntegrationStatus": "active",
            "gracePeriodEnd": None}


def serialize_repo(repo: dict[str, Any]) -> dict[str, Any]:
    provider = repo["provider"]
    return {"id": str(repo["id"]), "name": repo["name"], "url": repo["url"],
            "provider": {"id": f"integrations:{provider}",
                         "name": PROVIDERS.get(provider, {"name": provider})["name"]},
            "status": repo["status"], "dateCreated": repo["dateCreated"],
            "integrationId": str(repo["integrationId"]) if repo["integrationId"] else None,
            "externalSlug": repo["name"], "externalId": repo["externalId"]}


def dsn_of(request: Request, key: dict[str, Any]) -> str:
    host = request.url.netloc
    return f"{request.url.scheme}://{key['public']}@{host}/{key['projectId']}"


def serialize_key(request: Request, key: dict[str, Any]) -> dict[str, Any]:
    dsn = dsn_of(request, key)
    base = f"{request.url.scheme}://{request.url.netloc}/api/{key['projectId']}"
    return {"id": key["public"], "name": key["label"], "label": key["label"],
            "public": key["public"], "secret": key["secret"], "projectId": key["projectId"],
            "isActive": True, "rateLimit": None, "dateCreated": key["dateCreated"],
            "browserSdkVersion": "7.x", "browserSdk": {"choices": [["latest", "latest"]]},
            "dynamicSdkLoaderOptions": {"hasReplay": False, "hasPerformance": False,
                                        "hasDebug": False, "hasFeedback": False,
                                        "hasLogsAndMetrics": False},
            "useCase": "user",
            "dsn": {"secret": dsn.replace("@", f":{key['secret']}@", 1), "public": dsn,
                    "csp": f"{base}/csp-report/?sentry_key={key['public']}",
                    "security": f"{base}/security/?sentry_key={key['public']}",
                    "minidump": f"{base}/minidump/?sentry_key={key['public']}",
                    "nel": f"{base}/nel/?sentry_key={key['public']}",
                    "unreal": f"{base}/unreal/{key['public']}/",
                    "crons": f"{base}/cron/___MONITOR_SLUG___/{key['public']}/",
                    "cdn": f"{base}/loader/{key['public']}.min.js",
                    "playstation": f"{base}/playstation/?sentry_key={key['public']}",
                    "otlp_traces": f"{base}/otlp/v1/traces/",
                    "otlp_logs": f"{base}/otlp/v1/logs/",
                    "integration": f"{base}/integration/"}}


def _query_filter(request: Request, items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """`query=slug:foo`, `name:foo` or free text (contains), as the list endpoints accept."""
    query = request.query_params.get("query", "").strip()
    if not query:
        return items
    field, sep, value = query.partition(":")
    if sep and field in keys:
        return [i for i in items if str(i.get(field, "")) == value]
    return [i for i in items if any(query.lower() in str(i.get(k, "")).lower() for k in keys)]


def _searched(request: Request, org: dict[str, Any], kind: str, *keys: str) -> list[dict[str, Any]]:
    """The org's `kind` objects that the request's `query=` matches on `keys`."""
    return _query_filter(request, store_of(request).query(kind, org["id"]), *keys)


def paged(request: Request, items: list[Any], default: int = 100) -> Response:
    page = offset_page(request, lambda off, lim: items[off:off + lim], default=default,
                       hits=len(items))
    return json_response(page.items, headers=page.headers)


async def api_root(request: Request) -> Response:
    user = actor_of(request)
    return json_response({"version": "0", "auth": {"scopes": ["org:read", "org:write",
                          "project:releases", "project:read", "project:write", "alerts:write",
                          "alerts:read", "event:read", "event:write"]},
                          "user": {"id": str(user["id"]), "name": user["name"],
                                   "email": user["email"], "username": user["email"]}})


async def org_list(request: Request) -> Response:
    store = store_of(request)
    return paged(request, [serialize_org(o) for o in store.query("org")])


async def org_detail(request: Request) -> Response:
    org = org_of(request)
    body = serialize_org(org)
    store = store_of(request)
    body["projects"] = [serialize_project(store, org, p) for p in store.query("project", org["id"])]
    body["teams"] = [serialize_team(t) for t in store.query("team", org["id"])]
    return json_response(body)


async def project_list(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    items = _searched(request, org, "project", "slug", "name")
    return paged(request, [serialize_project(store, org, p) for p in items])


async def project_detail(request: Request) -> Response:
    org = org_of(request)
    body = serialize_project(store_of(request), org, project_of(request, org))
    body.update(PROJECT_DETAIL_DEFAULTS)
    body["organization"] = serialize_org(org)
    return json_response(body)


async def project_teams(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    teams = [t for t in (store.get("team", tid) for tid in project.get("teams", [])) if t]
    return paged(request, [serialize_team(t) for t in teams])


async def team_list(request: Request) -> Response:
    items = _searched(request, org_of(request), "team", "slug", "name")
    return paged(request, [serialize_team(t) for t in items])


async def team_projects(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    team = find_by(store, "team", org, request.path_params["team"], "slug")
    if team is None:
        raise not_found()
    items = [p for p in store.query("project", org["id"]) if team["id"] in p.get("teams", [])]
    return paged(request, [serialize_project(store, org, p) for p in items])


async def member_list(request: Request) -> Response:
    items = _searched(request, org_of(request), "member", "email", "name")
    return paged(request, [serialize_member(m) for m in items])


def _environments(request: Request, org: dict[str, Any], **extra: Any) -> Response:
    """The org's environments by name (every project sees all of them), plus `extra` keys."""
    envs = sorted(store_of(request).query("environment", org["id"]), key=lambda e: e["name"])
    return json_response([{"id": str(e["id"]), "name": e["name"], **extra} for e in envs])


async def environment_list(request: Request) -> Response:
    return _environments(request, org_of(request))


async def project_environments(request: Request) -> Response:
    org = org_of(request)
    project_of(request, org)
    return _environments(request, org, isHidden=False)


async def integration_list(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    items = store.query("integration", org["id"])
    provider = request.query_params.get("providerKey") or request.query_params.get("provider_key")
    if provider:
        items = [i for i in items if i["provider"] == provider]
    features = request.query_params.getlist("features")
    if features:
        items = [i for i in items if set(features) & set(PROVIDERS[i["provider"]]["features"])]
    return paged(request, [serialize_integration(org, i) for i in items])


async def integration_detail(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    integ = find_by(store, "integration", org, request.path_params["integration_id"])
    if integ is None:
        from ..api import not_found
        raise not_found()
    return json_response(serialize_integration(org, integ))


async def integration_channels(request: Request) -> Response:
    """`{"results": [{id, name, display, type}], "nextCursor"}` as Sentry's channel picker
    answers it (`limit` default 50, clamped to 200; the cursor is an offset for the emulator's
    seeded channels)."""
    org, store = org_of(request), store_of(request)
    integ = find_by(store, "integration", org, request.path_params["integration_id"])
    if integ is None or not request.app.state.config.quirks.channel_listing:
        raise not_found()
    if integ["provider"] != "slack":
        return json_response({"results": [], "nextCursor": None, "warning":
                              f"Channel listing not supported for provider {integ['provider']}"})
    raw_limit = request.query_params.get("limit", "50")
    limit = min(int(raw_limit), 200) if raw_limit.isdigit() and int(raw_limit) > 0 else 50
    raw_cursor = request.query_params.get("cursor", "0")
    start = int(raw_cursor) if raw_cursor.isdigit() else 0
    channels = store.find("slack_channel", org["id"], integrationId=integ["id"])
    page = channels[start:start + limit]
    more = start + limit < len(channels)
    return json_response({"results": [{"id": c["channelId"], "name": c["name"],
                                       "display": f"#{c['name']}", "type": "public"}
                                      for c in page],
                          "nextCursor": str(start + limit) if more else None})


async def key_list(request: Request) -> Response:
    org, store = org_of(request), store_of(request)
    project = project_of(request, org)
    keys = store.query("project_key", org["id"], scope=str(project["id"]))
    return paged(request, [serialize_key(request, k) for k in keys])


ROUTES = [
    ("/", ["GET"], api_root),
    ("/organizations/", ["GET"], org_list),
    ("/organizations/{org}/", ["GET"], org_detail),
    ("/organizations/{org}/projects/", ["GET"], project_list),
    ("/projects/{org}/{project}/", ["GET"], project_detail),
    ("/projects/{org}/{project}/teams/", ["GET"], project_teams),
    ("/projects/{org}/{project}/environments/", ["GET"], project_environments),
    ("/projects/{org}/{project}/keys/", ["GET"], key_list),
    ("/organizations/{org}/teams/", ["GET"], team_list),
    ("/organizations/{org}/members/", ["GET"], member_list),
    ("/organizations/{org}/environments/", ["GET"], environment_list),
    ("/organizations/{org}/integrations/", ["GET"], integration_list),
    ("/organizations/{org}/integrations/{integration_id}/", ["GET"], integration_detail),
    ("/organizations/{org}/integrations/{integration_id}/channels/", ["GET"],
     integration_channels),
    ("/teams/{org}/{team}/projects/", ["GET"], team_projects),
]
