"""The `monitors` section: Sentry's detectors ("Monitors", REFERENCE-workflows.md §2.7-2.9),
one kind per detector type, each entry marked `type: metric | uptime | cron`.

Importing this package registers the three kinds.
"""

from . import cron, metric, uptime

__all__ = ["cron", "metric", "uptime"]
