"""Shared field helpers of the kinds: durations, numbers, owners, integrations, Slack names."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from dexter_sync.core.directory import Directory, Integration
from dexter_sync.core.durations import Minutes
from dexter_sync.kinds import fields as f
from dexter_sync.render.view import redact


@pytest.fixture
def directory() -> Directory:
    return Directory(
        organization="acme",
        teams={"platform": "11", "sre": "12"},
        members={"alice@example.com": "21"},
        integrations={
            "24001": Integration("24001", "Acme Slack", "slack"),
            "24002": Integration("24002", "Other Slack", "slack"),
            "24003": Integration("24003", "Acme PD", "pagerduty"),
        },
        slack_channels={("24001", "#alerts"): "C0ALERTS01"},
    )


@pytest.mark.parametrize("value, minutes", [
    ("30s", 0.5), ("5m", 5), ("1h", 60), ("1d", 1440), ("1w", 10080), (15, 15), (2.5, 2.5),
    ("90", 90), (" 2h ", 120),
])
def test_duration_minutes(value, minutes):
    assert f.duration_minutes(value) == minutes


@pytest.mark.parametrize("value", ["5x", "", "h", "-5m", 0, -1, True, "1.2.3m"])
def test_bad_durations_are_refused(value):
    with pytest.raises(ValueError):
        f.duration_minutes(value)


@pytest.mark.parametrize("minutes, text", [
    (60, "1h"), (60.0, "1h"), (90, "90m"), (1440, "1d"), (0.5, "30s"), (43200, "30d"), (5, "5m"),
])
def test_format_duration(minutes, text):
    assert f.format_duration(minutes) == text
    assert f.duration_minutes(text) == minutes


def test_duration_type_reads_minutes_once_and_exports_the_spelling():
    class M(BaseModel):
        d: f.Duration

    assert (M(d="5m").d, M(d="90s").d, M(d=5).d, M(d="1h").d) == (5, 1.5, 5, 60)
    assert M(d=90).model_dump(mode="json") == {"d": "90m"}  # export writes the spelling
    assert M(d="60m").model_dump(mode="json") == {"d": "1h"}
    for bad in ("five minutes", True, [5], 0, "-1m"):
        with pytest.raises(ValidationError):
            M(d=bad)


def test_minutes_compare_as_numbers_and_show_their_spelling():
    assert Minutes(60) == 60 == Minutes(60.0) and hash(Minutes(60)) == hash(60)
    assert (str(Minutes(60)), str(Minutes(1.5)), repr(Minutes(2880))) == ("1h", "90s", "2d")
    assert json.dumps({"w": Minutes(5)}) == '{"w": 5.0}'  # fingerprints read the number
    assert redact({"time_window": Minutes(5), "token": "x"}) == {"time_window": "5m",
                                                                 "token": "(sensitive)"}


def test_minutes_in_range_names_the_field_and_the_range():
    with pytest.raises(ValueError, match=r"time_window must be between 1m and 1d"):
        f.minutes_in_range("2d", 1, 1440, what="time_window")
    with pytest.raises(ValueError, match="whole number of minutes"):
        f.minutes_in_range("30s", 0.1, 1440, what="time_window")
    assert f.minutes_in_range("1h", 1, 1440, what="x") == 60


@pytest.mark.parametrize("value, expected", [
    (60.0, 60), ("80", 80), (" 80 ", 80), (10.099999999999994, 10.1), (110.1, 110.1),
    (0.1 + 0.2, 0.3), (1e-7, 1e-7), ("abc", "abc"), (None, None), (True, True),
    (1234567, 1234567), (1234567.0, 1234567), ("1234567", 1234567), (2.5, 2.5),
])
def test_number_normalizes_types_and_float_noise(value, expected):
    assert f.number(value) == expected
    assert type(f.number(value)) is type(expected)


def test_int_or_str():
    assert f.int_or_str("24001") == 24001
    assert f.int_or_str("C0ALERTS01") == "C0ALERTS01"
    assert f.int_or_str(5) == 5


def test_owner_validation():
    assert f.check_owner("team:platform") == "team:platform"
    assert f.check_owner("user:alice@example.com") == "user:alice@example.com"
    with pytest.raises(ValueError, match="owner must be"):
        f.check_owner("platform")


def test_owner_round_trip_through_ids(directory):
    assert f.owner_to_sentry("team:platform", directory) == "team:11"
    assert f.owner_to_sentry("team:11", directory) == "team:11"
    assert f.owner_to_sentry("user:Alice@Example.com", directory) == "user:21"
    assert f.owner_friendly("team:11", directory) == "team:platform"
    assert f.owner_friendly("user:21", directory) == "user:alice@example.com"
    # unknown names and ids survive both ways (the reference check reports them)
    assert f.owner_to_sentry("team:ghosts", directory) == "team:ghosts"
    assert f.owner_friendly("team:999", directory) == "team:999"


def test_team_and_user_refs(directory):
    assert f.team_ref("12", directory) == "sre"
    assert f.team_ref(12, directory) == "sre"
    assert f.team_ref("sre", directory) == "sre"
    assert f.user_ref(21, directory) == "alice@example.com"
    assert f.team_id_for("sre", directory) == "12"
    assert f.user_id_for("alice@example.com", directory) == "21"


def test_integrations_by_name_id_and_single_provider(directory):
    assert f.integration_id_for("Acme PD", "pagerduty", directory) == "24003"
    assert f.integration_id_for(None, "pagerduty", directory) == "24003"  # the only one
    assert f.integration_id_for(None, "slack", directory) is None  # two installed: ambiguous
    assert f.integration_name_for(24001, "slack", directory) == "Acme Slack"
    assert f.integration_name_for("404", "slack", directory) == "404"


@pytest.mark.parametrize("value, expected", [
    ("alerts", "#alerts"), ("#alerts", "#alerts"), ("##alerts", "#alerts"),
    ("@jane", "@jane"), (" #alerts ", "#alerts"), ("C0ALERTS01", "C0ALERTS01"),
])
def test_slack_channel_name(value, expected):
    assert f.slack_channel_name(value) == expected


def test_slack_channel_ids(directory):
    assert f.slack_channel_id(directory, "24001", "alerts") == "C0ALERTS01"
    assert f.slack_channel_id(directory, "24002", "alerts") is None
    assert f.slack_channel_ref(directory, 24001, "C0ALERTS01") == "#alerts"
    assert f.slack_channel_ref(directory, 24001, "whatever", "C0ALERTS01") == "#alerts"
    assert f.slack_channel_ref(directory, 24001, "ops") == "#ops"


def test_sorted_canonical_is_order_free():
    a = [{"b": 1, "a": 2}, "x", {"a": 1}]
    assert f.sorted_canonical(a) == f.sorted_canonical(list(reversed(a)))
