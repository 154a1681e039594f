"""Admin: `POST /__emulator__/events/generate/` runs the deterministic bulk generator
(eventgen.py) in the emulator's organization; the body is a GeneratorSpec as JSON
(`{"count": 1000, "projects": ["backend"], "releases": [{"version": "1.0", "error_rate": 0.1}],
"seed": 7}`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..api import ApiError, json_response, read_object, store_of
from ..eventgen import GeneratorSpec, generate_events


async def generate(request: Request) -> Response:
    body = await read_object(request)
    try:
        spec = GeneratorSpec.from_json(body)
        result = generate_events(store_of(request), request.app.state.config.organization, spec)
    except (TypeError, ValueError) as error:
        raise ApiError(400, {"detail": str(error)}) from None
    return json_response(result, 201)


ROUTES = [("/events/generate/", ["POST"], generate)]
