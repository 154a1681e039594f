"""HTTP plumbing shared by the route modules: errors, JSON bodies and responses, lookups.

Error bodies follow Django REST framework and Sentry (REFERENCE.md §3.4).
"""

from __future__ import annotations

import json
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from .seeding import find_by, find_org
from .store import Store

NOT_FOUND = {"detail": "The requested resource does not exist"}
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}


class ApiError(Exception):
    """An error answered to the client as `status` with a JSON `body`."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(detail: str | None = None) -> ApiError:
    return ApiError(404, {"detail": detail} if detail else NOT_FOUND)


def field_errors(errors: dict[str, Any]) -> ApiError:
    return ApiError(400, errors)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers)
    return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                    headers=headers, media_type="application/json")


def error_response(error: ApiError) -> Response:
    return json_response(error.body, error.status, error.headers)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 beyond `limit` bytes (checked while reading)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, {"detail": f"Request body too large (limit {limit} bytes)."})
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, {"detail": f"Request body too large (limit {limit} bytes)."})
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, *, limit: int = 1024 * 1024) -> Any:
    """The request's JSON body as DRF parses it: empty body → {}, other media types → 415."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    media = _media_type(request)
    if media and media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, {"detail": f'Unsupported media type "{media}" in request.'})
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, {"detail": f"JSON parse error - {exc}"}) from None


async def read_object(request: Request, *, limit: int = 1024 * 1024) -> dict[str, Any]:
    """A JSON body that must be an object (DRF: 'Invalid data. Expected a dictionary')."""
    body = await read_json(request, limit=limit)
    if not isinstance(body, dict):
        raise ApiError(400, {"non_field_errors": [
            f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]})
    return body


def store_of(request: Request) -> Store:
    return cast("Store", request.app.state.store)


def org_of(request: Request) -> dict[str, Any]:
    """The organization named by `{org}` (slug or id), else 404."""
    org = find_org(store_of(request), request.path_params["org"])
    if org is None:
        raise not_found()
    return org


def project_of(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    """The project named by `{project}` (slug or id) in `org`, else 404."""
    project = find_by(store_of(request), "project", org, request.path_params["project"], "slug")
    if project is None:
        raise not_found()
    return project


def object_of(request: Request, org: dict[str, Any], kind: str, param: str) -> dict[str, Any]:
    """The `kind` object of `org` whose id is the path parameter `param`, else 404."""
    found = store_of(request).get(kind, request.path_params[param], org=org["id"])
    if found is None:
        raise not_found()
    return found


def actor_of(request: Request) -> dict[str, Any]:
    """Who makes this request, for createdBy and the audit log (the token's user)."""
    return cast("dict[str, Any]", request.app.state.api_user)


def multi_param(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v != ""]
