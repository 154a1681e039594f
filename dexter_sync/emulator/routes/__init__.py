"""Route modules of the emulator, one per Sentry resource family; each exposes `ROUTES`,
a list of `(path template, methods, handler)` relative to `/api/0` (or `/api`, `/__emulator__`).
"""

from . import issue_alerts, metric_alerts, org

API_ROUTES = [*org.ROUTES, *metric_alerts.ROUTES, *issue_alerts.ROUTES]
INGEST_ROUTES: list = []
ADMIN_ROUTES: list = []
