"""The `issue_alerts` section: Sentry's legacy project rules (REFERENCE §2).

`nodes` is the catalogue of conditions, filters and actions, `params` their parameters,
`model` the manifest entry, `kind` the comparison and API calls. Importing this package
registers the `issue_alert` kind.
"""

from . import kind
from .kind import (
    IssueAlertEntry,
    IssueAlertKind,
    build_payload,
    entry_from_live,
    node_payload,
    payload_for_update,
)

__all__ = ["IssueAlertEntry", "IssueAlertKind", "build_payload", "entry_from_live", "kind",
           "node_payload", "payload_for_update"]
