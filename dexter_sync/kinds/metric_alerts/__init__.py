"""The `metric_alerts` section: Sentry's legacy organization alert rules (REFERENCE §1).

`model` is the manifest entry, `actions` the trigger actions, `kind` the comparison and API
calls. Importing this package registers the `metric_alert` kind.
"""

from . import kind
from .kind import (
    MetricAlertEntry,
    MetricAlertKind,
    build_payload,
    display_aggregate,
    entry_from_live,
    payload_for_update,
)

__all__ = ["MetricAlertEntry", "MetricAlertKind", "build_payload", "display_aggregate",
           "entry_from_live", "kind", "payload_for_update"]
