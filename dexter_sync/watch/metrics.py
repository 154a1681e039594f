"""`GET /metrics`: Prometheus text, collected at scrape time from what the daemon already
counts (the loop's state, the gateway's request metrics and breaker, the stream hub, the
webhook and Slack counters). Nothing is double-booked: a scrape reads, never resets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from ..sentry.gateway import Gateway
from .hub import EventHub
from .state import WatchState

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BREAKER_STATES = ("closed", "open", "half-open")


@dataclass
class Counters:
    """Counts kept by the server and the notifier."""

    webhooks: dict[str, int] = field(default_factory=dict)
    """result (`accepted`, `bad-signature`, `bad-payload`, `ignored`) -> requests."""
    notify: dict[str, int] = field(default_factory=dict)
    """result (`sent`, `failed`, `dropped`) -> messages."""

    def count(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1


class WatchCollector(Collector):
    def __init__(self, state: WatchState, hub: EventHub, counters: Counters,
                 gateway: Callable[[], Gateway | None]) -> None:
        self.state = state
        self.hub = hub
        self.counters = counters
        self.gateway = gateway

    def collect(self) -> Iterator[Metric]:
        state = self.state
        yield CounterMetricFamily("dexter_watch_cycles", "Watch cycles run.", state.cycles)
        yield CounterMetricFamily("dexter_watch_failed_cycles",
                                  "Cycles that failed because Sentry was unavailable.",
                                  state.failed_cycles)
        yield SummaryMetricFamily("dexter_watch_cycle_duration_seconds",
                                  "Time one cycle took.", count_value=state.cycles,
                                  sum_value=state.cycle_seconds_total)
        yield GaugeMetricFamily("dexter_watch_last_cycle_duration_seconds",
                                "Time the last cycle took.", state.last_cycle_seconds)
        yield GaugeMetricFamily("dexter_watch_drift_objects",
                                "Objects that differ from the manifests now.", state.drift_count)
        yield GaugeMetricFamily("dexter_watch_sentry_available",
                                "1 while Sentry answers, 0 after sentry.unavailable.",
                                0 if state.unavailable else 1)
        events = CounterMetricFamily("dexter_watch_events", "Events emitted, by type.",
                                     labels=["type"])
        for name, value in sorted(state.events_by_type.items()):
            events.add_metric([name], value)
        yield events
        yield GaugeMetricFamily("dexter_watch_stream_subscribers",
                                "Connected SSE and WebSocket subscribers.",
                                len(self.hub.subscribers))
        yield CounterMetricFamily("dexter_watch_stream_dropped",
                                  "Messages dropped for slow subscribers (oldest first).",
                                  self.hub.dropped)
        yield from self._table("dexter_watch_webhooks", "Sentry webhook requests, by result.",
                               self.counters.webhooks)
        yield from self._table("dexter_watch_notifications", "Slack messages, by result.",
                               self.counters.notify)
        gateway = self.gateway()
        if gateway is not None:
            yield from self._gateway(gateway)

    @staticmethod
    def _table(name: str, text: str, table: dict[str, int]) -> Iterator[Metric]:
        family = CounterMetricFamily(name, text, labels=["result"])
        for key, value in sorted(table.items()):
            family.add_metric([key], value)
        yield family

    @staticmethod
    def _gateway(gateway: Gateway) -> Iterator[Metric]:
        metrics = gateway.metrics
        yield CounterMetricFamily("dexter_watch_sentry_requests",
                                  "Requests sent to Sentry (every attempt).", metrics.requests)
        yield CounterMetricFamily("dexter_watch_sentry_rate_limited",
                                  "429 answers from Sentry.", metrics.rate_limited)
        yield CounterMetricFamily("dexter_watch_sentry_retries", "Requests retried.",
                                  metrics.retries)
        breaker = GaugeMetricFamily("dexter_watch_breaker_state",
                                    "Circuit breaker state (1 for the current one).",
                                    labels=["state"])
        for name in BREAKER_STATES:
            breaker.add_metric([name], 1 if gateway.breaker.state.value == name else 0)
        yield breaker


def registry_for(collector: WatchCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
