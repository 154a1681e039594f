"""Moving legacy alert rules (`issue_alerts`, `metric_alerts`) to Sentry's workflows and
detectors (`alerts`, `monitors`): the manifest conversion and the safe cut-over."""
