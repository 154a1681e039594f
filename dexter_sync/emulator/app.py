"""`create_app(config)`: the Starlette application of the emulator.

`app.state` holds the store, the config (its rate-limit, fault and quirk settings are live:
the admin endpoints change them in place), the limiter, the fault injector, counters and
the Slack tasks due to finish (routes/tasks.py).
"""

from __future__ import annotations

import copy

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .api import NOT_FOUND, json_response
from .config import EmulatorConfig
from .faults import FaultInjector
from .holds import RouteHolds
from .limits import RateLimiter, RequestCounters
from .routes import ADMIN_ROUTES, API_ROUTES, INGEST_ROUTES
from .routes.tasks import DueTasks
from .routing import build_routes
from .store import Store
from .views import RowViews

API_USER = {"id": 1, "name": "Dexter Admin", "email": "admin@example.com"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods, answered as Sentry (Django/DRF) answers them."""
    assert isinstance(exc, HTTPException)
    state = request.app.state
    if exc.status_code == 405:
        body = {"detail": f'Method "{request.method}" not allowed.'}
        template = "(method not allowed)"
    elif exc.status_code == 404:
        body, template = NOT_FOUND, "(unknown route)"
    else:
        body, template = {"detail": exc.detail}, "(error)"
    response = json_response(body, exc.status_code, dict(exc.headers or {}))
    if request.url.path.startswith("/api/"):
        decision = state.limiter.acquire(f"{request.method} {template}")
        if decision.allowed:
            state.limiter.release(f"{request.method} {template}")
        response.headers.update(decision.headers)
    state.counters.record(request.method, template, exc.status_code)
    return response


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    config = config or EmulatorConfig()
    store = Store(config.db_path)
    store.ensure_names(config.organization, projects=config.projects, teams=config.teams,
                       members=config.members, environments=config.environments)
    routes = (build_routes(ADMIN_ROUTES, prefix="/__emulator__", kind="admin")
              + build_routes(INGEST_ROUTES, prefix="/api", kind="ingest")
              + build_routes(API_ROUTES, prefix="/api/0", kind="api"))
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.config = config
    app.state.store = store
    app.state.limiter = RateLimiter(config.rate_limit)
    app.state.faults = FaultInjector(config.faults)
    app.state.holds = RouteHolds()
    app.state.tasks = DueTasks(store)
    app.state.counters = RequestCounters()
    app.state.views = RowViews()
    app.state.api_user = API_USER
    app.state.initial_settings = {attr: copy.deepcopy(getattr(config, attr))
                                  for attr in ("rate_limit", "faults", "quirks", "alerting")}
    return app
