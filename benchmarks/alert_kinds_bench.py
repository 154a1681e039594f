"""Cost of the alert kinds' comparison hooks per rule, for metric and issue alerts:
canonical(desired), the live form the planner uses (canonical_live, straight from the JSON)
and the round trip it replaces (canonical(entry_from_live(live)), kept as the test oracle).

    python benchmarks/alert_kinds_bench.py [N]

Prints microseconds per rule, the round trip's cost over the live form's, and the ratio
between N and 10*N rules (should be ~10: linear).
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any

from dexter_sync.core.directory import Directory, Integration
from dexter_sync.kinds.issue_alerts import IssueAlertEntry, IssueAlertKind
from dexter_sync.kinds.metric_alerts import MetricAlertEntry, MetricAlertKind

DIRECTORY = Directory(
    organization="acme", projects={"backend": "1"}, teams={"platform": "11"},
    members={"alice@example.com": "21"},
    integrations={"24001": Integration("24001", "Acme Slack", "slack"),
                  "24002": Integration("24002", "Acme PD", "pagerduty")},
    slack_channels={("24001", "#alerts"): "C0ALERTS01"},
)
METRIC = {
    "name": "rule", "project": "backend", "aggregate": "count()", "query": "level:error",
    "time_window": "1h", "owner": "team:platform", "resolve_threshold": 50,
    "triggers": {
        "critical": {"threshold": 100, "actions": [{"slack": {"channel": "#alerts"}},
                                                    {"pagerduty": {"service": "42"}}]},
        "warning": {"threshold": 80, "actions": [{"email": {"team": "platform"}}]}},
}
ISSUE = {
    "name": "rule", "project": "backend", "frequency": "1h", "owner": "team:platform",
    "conditions": ["first_seen_event", {"event_frequency": {"value": 100, "interval": "1h"}}],
    "filters": [{"level": {"match": "gte", "level": "error"}},
                {"tagged_event": {"key": "customer", "match": "eq", "value": "vip"}}],
    "actions": [{"slack": {"channel": "#alerts", "tags": ["environment"]}},
                {"email": {"target": "issue_owners"}}],
}


def run(kind: Any, model: Any, data: dict[str, Any], count: int) -> tuple[float, float, float]:
    entries = [model.model_validate({**copy.deepcopy(data), "name": f"rule {n}"})
               for n in range(count)]
    lives = [{**kind.build_payload(e, directory=DIRECTORY), "id": str(n), "projects": ["backend"]}
             for n, e in enumerate(entries)]
    start = time.process_time()
    for e in entries:
        kind.canonical(e, directory=DIRECTORY)
    desired = time.process_time() - start
    start = time.process_time()
    for live in lives:
        kind.canonical_live(live, directory=DIRECTORY)
    direct = time.process_time() - start
    start = time.process_time()
    for live in lives:
        kind.canonical(kind.entry_from_live(live, directory=DIRECTORY), directory=DIRECTORY)
    return desired, direct, time.process_time() - start


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for label, kind, model, data in (("metric_alert", MetricAlertKind(), MetricAlertEntry, METRIC),
                                     ("issue_alert", IssueAlertKind(), IssueAlertEntry, ISSUE)):
        small = run(kind, model, data, count)
        large = run(kind, model, data, count * 10)
        print(f"{label}: canonical(desired) {small[0] / count * 1e6:.0f} us/rule, "
              f"canonical_live {small[1] / count * 1e6:.0f} us/rule, round trip "
              f"{small[2] / count * 1e6:.0f} us/rule (x{small[2] / max(small[1], 1e-9):.1f}) "
              f"at {count}; {count * 10} rules: {large[0] + large[1]:.2f} CPU s, "
              f"growth x{(large[0] + large[1]) / (small[0] + small[1]):.1f} for x10 rules")


if __name__ == "__main__":
    main()
