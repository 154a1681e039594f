"""`dexter watch`: the drift-watch daemon.

    loop.py      one cycle per interval: plan + feeds -> events; outages, backoff, stop
    drift.py     plan changes -> drift.detected / drift.resolved (attribution.py: who, when)
    feeds.py     issues, incidents, releases -> issue.* / incident.* / release.deployed
    regression.py  new release vs the previous one -> release.regression (compare_releases)
    tracker.py   state-change dedup (an event once per change, not once per cycle)
    events.py    the event shape and type names; emitter.py: where events go
    hub.py       fan-out to stream subscribers (bounded queues, drop-oldest)
    server.py    starlette: /events (SSE), /ws, /healthz, /metrics, /webhooks/sentry
    webhooks.py  Sentry-Hook-Signature check and payload mapping; metrics.py: Prometheus
    notify.py    Slack incoming webhook (Block Kit, retries, never blocking)
    daemon.py    wiring, signals, clean stop; state.py: what /healthz and pages read

The CLI (`cli/watch.py`) passes the plan function, so this package plans exactly as
`dexter plan` does without importing the CLI.
"""
