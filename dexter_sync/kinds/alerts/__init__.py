"""The `alerts` section: Sentry's workflows ("Alerts", REFERENCE-workflows.md §2.2-2.6).

Importing this package registers the `alert` kind.
"""

from . import kind

__all__ = ["kind"]
