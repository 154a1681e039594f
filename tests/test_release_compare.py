"""Release comparison: the pure verdict (core/release_compare.py) on hand-made numbers, and
`dexter releases compare` end to end over events from the deterministic generator: a release
seeded with a doubled error rate is flagged, one seeded with an equal rate is not."""

from __future__ import annotations

import json
import math

from dexter_sync.core.release_compare import CompareSettings, ReleaseNumbers, compare, z_score
from dexter_sync.emulator.eventgen import GeneratorSpec, ReleaseMix, generate_events
from dexter_sync.emulator.testing import running_emulator
from tests.test_sentry_inspect import run_cli


def numbers(version: str, events: int, errors: int, *issues: str) -> ReleaseNumbers:
    return ReleaseNumbers(version, events=events, errors=errors,
                          issues={issue: 1 for issue in issues})


def test_doubled_error_rate_is_a_regression_with_its_numbers():
    result = compare(numbers("1.0", 10_000, 500, "A-1", "A-2"),
                     numbers("1.1", 10_000, 1_000, "A-2", "A-3"))
    assert result.verdict == "regression" and result.regression
    assert result.rate_ratio == 2.0
    assert result.new_issues == ["A-3"] and result.resolved_issues == ["A-1"]
    # the z-score computed here from its definition
    pooled = 1500 / 20000
    expected = (0.1 - 0.05) / math.sqrt(pooled * (1 - pooled) * (2 / 10000))
    assert result.z_score is not None and math.isclose(result.z_score, expected)
    assert "5.00% (500/10000)" in result.reasons[0] and "10.00% (1000/10000)" in result.reasons[0]


def test_equal_rates_and_small_noisy_samples_are_not_regressions():
    assert compare(numbers("1.0", 10_000, 500), numbers("1.1", 9_000, 450)).verdict == "ok"
    # x3 the rate, but 3 errors in 200 events is no evidence
    noisy = compare(numbers("1.0", 200, 1), numbers("1.1", 200, 3))
    assert noisy.verdict == "ok" and noisy.z_score is not None and noisy.z_score < 3
    few = compare(numbers("1.0", 50, 1), numbers("1.1", 5_000, 2_500))
    assert few.verdict == "insufficient-data" and not few.regression


def test_thresholds_are_settings():
    base, candidate = numbers("1.0", 10_000, 500), numbers("1.1", 10_000, 700)
    assert compare(base, candidate).verdict == "ok"  # x1.4 < x1.5
    assert compare(base, candidate, CompareSettings(max_rate_ratio=1.3)).verdict == "regression"
    assert z_score(0, 100, 0, 100) == 0.0
    assert compare(numbers("1.0", 1000, 0), numbers("1.1", 1000, 20)).as_dict()[
        "rate_ratio"] is None  # infinite ratio reported as null in JSON


def test_cli_flags_the_doubled_release_and_not_the_equal_one():
    with running_emulator(projects=["backend", "web"]) as emu:
        seeded = generate_events(emu.store, emu.organization, GeneratorSpec(
            count=30_000, projects=["backend", "web"], seed=11, releases=[
                ReleaseMix("1.0.0", error_rate=0.05),
                ReleaseMix("1.1.0", error_rate=0.10, new_issues=3),
                ReleaseMix("1.2.0", error_rate=0.05)]))
        env = {"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token,
               "SENTRY_ORG": emu.organization}

        doubled = run_cli("releases", "compare", "1.0.0", "1.1.0", "--format", "json",
                          "--detailed-exitcode", env=env)
        assert doubled.returncode == 2, doubled.stderr
        body = json.loads(doubled.stdout)
        sent = seeded["releases"]
        assert body["verdict"] == "regression"
        assert body["base"]["events"] == sent["1.0.0"]["events"]
        assert body["base"]["errors"] == sent["1.0.0"]["errors"]
        assert body["candidate"]["errors"] == sent["1.1.0"]["errors"]
        assert 1.7 < body["rate_ratio"] < 2.3
        # the three issues only 1.1.0 has in each project (after the 20 shared), by short id
        assert body["new_issues"] == [f"{p}-{n}" for p in ("BACKEND", "WEB") for n in (21, 22, 23)]
        assert body["resolved_issues"] == []

        equal = run_cli("releases", "compare", "1.0.0", "1.2.0", "--detailed-exitcode", env=env)
        assert equal.returncode == 0, equal.stderr
        assert equal.stdout.startswith("1.2.0 vs 1.0.0: OK")
        assert "new issues: none" in equal.stdout

        one_project = run_cli("releases", "compare", "1.0.0", "1.1.0", "--project", "web",
                              "--format", "json", env=env)
        assert one_project.returncode == 0, one_project.stderr
        assert json.loads(one_project.stdout)["base"]["events"] < sent["1.0.0"]["events"]
