"""Route modules of the emulator, one per Sentry resource family; each exposes `ROUTES`,
a list of `(path template, methods, handler)` relative to `/api/0` (API), `/api`
(SDK ingestion) or `/__emulator__` (admin)."""

from . import (
               admin,
               alert_history,
               alert_migration,
               detectors,
               discover,
               event_admin,
               events,
               incidents,
               ingest,
               issue_alerts,
               issues,
               links,
               metric_alerts,
               org,
               releases,
               repos,
               workflows,
)

API_ROUTES = [*org.ROUTES, *alert_migration.retirable(metric_alerts.ROUTES),
              *alert_migration.retirable(issue_alerts.ROUTES), *discover.ROUTES,
              *releases.ROUTES, *repos.ROUTES, *issues.ROUTES, *links.ROUTES,
              *incidents.ROUTES, *events.ROUTES, *workflows.ROUTES, *detectors.ROUTES,
              *alert_history.ROUTES]
INGEST_ROUTES = ingest.ROUTES
ADMIN_ROUTES = [*admin.ROUTES, *event_admin.ROUTES, *alert_migration.ADMIN_ROUTES]
