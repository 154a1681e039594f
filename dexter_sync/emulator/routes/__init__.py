"""Route modules of the emulator, one per Sentry resource family; each exposes `ROUTES`,
a list of `(path template, methods, handler)` relative to `/api/0` (API), `/api`
(SDK ingestion) or `/__emulator__` (admin)."""

from . import (
               admin,
               alert_history,
               discover,
               event_admin,
               events,
               ingest,
               issue_alerts,
               issues,
               links,
               metric_alerts,
               org,
               releases,
               repos,
)

API_ROUTES = [*org.ROUTES, *metric_alerts.ROUTES, *issue_alerts.ROUTES, *discover.ROUTES,
              *releases.ROUTES, *repos.ROUTES, *issues.ROUTES, *links.ROUTES,
              *events.ROUTES, *alert_history.ROUTES]
INGEST_ROUTES = ingest.ROUTES
ADMIN_ROUTES = [*admin.ROUTES, *event_admin.ROUTES]
