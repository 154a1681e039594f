"""`dexter watch` as a subprocess against `dexter emulator`: drift is reported once per
change of state (with who changed it, from the audit log), resolved when reverted, healed
with --auto-apply; SIGTERM stops it cleanly."""

from __future__ import annotations

from pathlib import Path

from tests.helpers_watch import Emulator, applied, manifests, watching

__all__ = ["applied", "manifests"]  # fixtures shared through helpers_watch


def test_out_of_band_change_is_one_drift_then_resolved(applied: Emulator,
                                                       manifests: Path) -> None:
    with watching(applied, manifests) as daemon:
        daemon.wait_started()
        assert daemon.of_type("drift.detected") == []
        rule = applied.rule_named("backend errors")
        trigger = rule["triggers"][0]
        changed = {**trigger, "alertThreshold": 250}
        applied.oob("metric_rule", "update", id=int(rule["id"]),
                    fields={"triggers": [_stored(changed, rule)]})
        drift = daemon.wait_for(lambda e: e["type"] == "drift.detected", what="drift.detected")
        assert (drift["kind"], drift["key"], drift["organization"]) == (
            "metric_alert", "backend errors", "acme")
        assert drift["data"]["action"] == "update"
        assert [(d["path"], d["before"], d["after"]) for d in drift["data"]["diff"]] == [
            ("triggers.critical.threshold", 250, 100)]
        assert drift["data"]["file"].endswith("alerts.yaml:2:5")
        assert drift["data"]["changed_by"] == "ui-user@example.com"
        assert drift["data"]["changed_at"].startswith("20")
        daemon.wait_cycles(3)  # the drift persists: still exactly one event
        assert len(daemon.of_type("drift.detected")) == 1

        applied.oob("metric_rule", "update", id=int(rule["id"]),
                    fields={"triggers": [_stored(trigger, rule)]})
        resolved = daemon.wait_for(lambda e: e["type"] == "drift.resolved",
                                   what="drift.resolved")
        assert (resolved["kind"], resolved["key"]) == ("metric_alert", "backend errors")
        daemon.wait_cycles(2)
        assert len(daemon.of_type("drift.resolved")) == 1
        assert len(daemon.of_type("drift.detected")) == 1
        assert daemon.stop() == 0


def _stored(trigger: dict, rule: dict) -> dict:
    """A served trigger back in the emulator's stored form (what an oob edit writes)."""
    return {"id": int(trigger["id"]), "label": trigger["label"],
            "alertThreshold": float(trigger["alertThreshold"]),
            "dateCreated": trigger["dateCreated"],
            "actions": [{**a, "id": int(a["id"])} for a in trigger["actions"]]}


def test_auto_apply_heals_the_drift(applied: Emulator, manifests: Path) -> None:
    with watching(applied, manifests, "--auto-apply") as daemon:
        daemon.wait_started()
        rule = applied.rule_named("backend errors")
        applied.oob("metric_rule", "update", id=int(rule["id"]),
                    fields={"name": "renamed in the UI"})
        healed = daemon.wait_for(lambda e: e["type"] == "apply.succeeded" and
                                 e["key"] == "backend errors", what="apply.succeeded")
        assert healed["data"]["action"] == "create"  # the declared name is gone: re-created
        daemon.wait_for(lambda e: e["type"] == "drift.resolved", what="drift.resolved")
        assert daemon.of_type("apply.failed") == []
        assert daemon.stop() == 0
    plan = applied.dexter("plan", str(manifests), "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_auto_apply_heals_a_changed_field(applied: Emulator, manifests: Path) -> None:
    with watching(applied, manifests, "--auto-apply") as daemon:
        daemon.wait_started()
        rule = applied.rule_named("backend errors")
        applied.oob("metric_rule", "update", id=int(rule["id"]), fields={"timeWindow": 60})
        healed = daemon.wait_for(lambda e: e["type"] == "apply.succeeded", what="the heal")
        assert (healed["data"]["action"], healed["data"]["live_id"]) == ("update", rule["id"])
        daemon.wait_for(lambda e: e["type"] == "drift.resolved", what="drift.resolved")
    assert applied.rule_named("backend errors")["timeWindow"] == 5.0
    assert applied.dexter("plan", str(manifests), "--detailed-exitcode").returncode == 0


def test_sigterm_stops_cleanly_and_promptly(applied: Emulator, manifests: Path) -> None:
    with watching(applied, manifests, interval="1h") as daemon:
        daemon.wait_started()
        assert daemon.stop(timeout=5.0) == 0
        assert not any("Traceback" in line for line in daemon.err.snapshot())
