"""Per-route request metrics, and the text summary `--verbose` prints after a run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RouteMetrics:
    requests: int = 0
    """Requests sent (every attempt counts)."""
    retries: int = 0
    rate_limited: int = 0
    """429 answers."""
    failures: int = 0
    """Answers >= 500 and requests with no answer."""
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    """Seconds per answered request (bounded sample)."""

    def observe(self, status: int | None, seconds: float) -> None:
        self.requests += 1
        if status is None or status >= 500:
            self.failures += 1
        if status is not None:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 429:
                self.rate_limited += 1
            if len(self.latencies) < 100_000:
                self.latencies.append(seconds)

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class GatewayMetrics:
    routes: dict[str, RouteMetrics] = field(default_factory=dict)
    breaker_transitions: dict[str, int] = field(default_factory=dict)

    def route(self, endpoint: str) -> RouteMetrics:
        return self.routes.setdefault(endpoint, RouteMetrics())

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.routes.values())

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.routes.values())

    @property
    def rate_limited(self) -> int:
        return sum(r.rate_limited for r in self.routes.values())

    def snapshot(self) -> dict[str, object]:
        """Plain data (for `--format json` callers and the watch daemon's /metrics)."""
        return {
            "requests": self.requests, "retries": self.retries,
            "rate_limited": self.rate_limited,
            "breaker_transitions": dict(self.breaker_transitions),
            "routes": {
                name: {"requests": r.requests, "retries": r.retries,
                       "rate_limited": r.rate_limited, "failures": r.failures,
                       "statuses": dict(r.statuses),
                       "p50_ms": round(r.percentile(0.5) * 1000, 1),
                       "p95_ms": round(r.percentile(0.95) * 1000, 1)}
                for name, r in sorted(self.routes.items())
            },
        }


def summary_text(metrics: GatewayMetrics, *, waited: float = 0.0, cache_hits: int = 0,
                 cache_misses: int = 0, shared: int = 0) -> str:
    """A few aligned lines: totals, then one line per route."""
    lines = [
        f"sentry requests: {metrics.requests}, retries: {metrics.retries}, "
        f"429s: {metrics.rate_limited}, waited for rate limits: {waited:.2f}s, "
        f"cache hits/misses: {cache_hits}/{cache_misses}, shared in-flight GETs: {shared}",
    ]
    if metrics.breaker_transitions:
        moves = ", ".join(f"{k} x{v}" for k, v in sorted(metrics.breaker_transitions.items()))
        lines.append(f"circuit breaker: {moves}")
    width = max((len(n) for n in metrics.routes), default=0)
    for name, r in sorted(metrics.routes.items(), key=lambda kv: -kv[1].requests):
        lines.append(
            f"  {name:<{width}}  {r.requests:>5} req  {r.retries:>3} retries  "
            f"{r.rate_limited:>3} 429s  p50 {r.percentile(0.5) * 1000:6.1f} ms  "
            f"p95 {r.percentile(0.95) * 1000:6.1f} ms")
    return "\n".join(lines)
