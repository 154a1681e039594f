"""Field diffs in manifest names (never deepdiff strings) and the cosmetic classifier."""

from __future__ import annotations

from dexter_sync.core.cosmetics import MAX_DETAILS, CosmeticTally, tally_object
from dexter_sync.core.diffing import diff_fields, restrict


def test_diff_paths_are_tuples_of_manifest_names():
    before = {"name": "a", "triggers": {"critical": {"threshold": 100, "actions": [
        {"email": {"team": "x"}}]}}, "time_window": "5m"}
    after = {"name": "a", "triggers": {"critical": {"threshold": 90, "actions": [
        {"email": {"team": "y"}}, {"slack": {"channel": "#a"}}]}}, "time_window": "5m",
        "owner": "team:x"}
    found = [(c.path, c.before, c.after) for c in diff_fields(before, after)]
    assert found == [
        (("owner",), None, "team:x"),
        (("triggers", "critical", "actions", 0, "email", "team"), "x", "y"),
        (("triggers", "critical", "actions", 1), None, {"slack": {"channel": "#a"}}),
        (("triggers", "critical", "threshold"), 100, 90),
    ]
    assert all(isinstance(c.dotted, str) and "root" not in c.dotted
               for c in diff_fields(before, after))


def test_numbers_compare_by_value_and_equal_objects_skip_deepdiff():
    assert diff_fields({"t": 60}, {"t": 60.0}) == ()
    assert [c.path for c in diff_fields({"t": 60, "q": "a"}, {"t": 60.0, "q": "b"})] == [("q",)]


def test_restrict_keeps_only_top_level_keys_the_manifest_holds():
    live = {"name": "a", "description": "server", "triggers": {"critical": 1, "warning": 2}}
    desired = {"name": "a", "triggers": {"critical": 1}}
    assert restrict(live, desired) == {"name": "a", "triggers": {"critical": 1, "warning": 2}}
    # a dropped warning trigger is a real difference, a never-declared description is not
    assert [c.path for c in diff_fields(restrict(live, desired), desired)] == [
        ("triggers", "warning")]


def classes(sent, live) -> dict[str, int]:
    tally = CosmeticTally()
    tally_object("k/x", sent, live, tally)
    return tally.finish()[0]


def test_cosmetic_classes():
    sent = {"conditions": [{"id": "a"}, {"id": "b", "value": "80"}], "timeWindow": 5,
            "filterValue": "prod", "channel": "alerts", "eventTypes": ["error"]}
    live = {"conditions": [{"id": "b", "value": 80, "name": "B"}, {"id": "a", "name": "A"}],
            "timeWindow": 5.0, "filterValue": " prod ", "channel": "#alerts",
            "environment": None, "id": "1"}
    assert classes(sent, live) == {"case/whitespace": 2, "order": 1, "server-field": 2,
                                   "server-omitted": 1, "type": 2}


def test_cosmetic_details_are_bounded_and_formatted_on_demand():
    tally = CosmeticTally()
    for i in range(MAX_DETAILS + 5):
        tally_object(f"k/{i}", {"v": 1}, {"v": "1"}, tally)
    counts, details = tally.finish()
    assert counts == {"type": MAX_DETAILS + 5}
    assert len(details) == MAX_DETAILS + 1 and details[-1] == "... and 5 more"
    assert details[0] == 'k/0 v: type (sent 1, Sentry has "1")'
