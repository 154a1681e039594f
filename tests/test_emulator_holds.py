"""The emulator's hold switch (`/__emulator__/holds/`): matching requests wait inside the
emulator until released, so a test can act while a write is provably in flight."""

from __future__ import annotations

import threading
import time

URL = "organizations/acme/discover/saved/"


def body(name: str) -> dict:
    return {"name": name, "projects": [], "version": 2, "fields": ["title"]}


def wait_until(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def post_in_thread(emulator, name: str, results: list) -> threading.Thread:
    client = emulator.client()
    thread = threading.Thread(target=lambda: results.append(client.post(URL, json=body(name))))
    thread.start()
    return thread


def test_after_n_requests_the_rest_wait_until_released(emulator):
    emulator.hold(route="/discover/saved/", methods="POST", after=1, stage="before")
    first = emulator.client().post(URL, json=body("passes"))
    assert first.status_code == 201  # the first one is let through
    results: list = []
    thread = post_in_thread(emulator, "held", results)
    wait_until(lambda: emulator.holds()["held"] == 1)
    # held before its handler: not created yet, and reads are not held
    names = [q["name"] for q in emulator.client().get(URL).json()]
    assert names == ["passes"] and results == []
    released = emulator.release_holds()
    assert released["hold"] is None
    thread.join(timeout=10)
    assert [r.status_code for r in results] == [201]
    assert sorted(q["name"] for q in emulator.client().get(URL).json()) == ["held", "passes"]
    assert emulator.holds() == {"hold": None, "matched": 2, "held": 0, "released": 1}


def test_stage_after_holds_the_answer_of_a_committed_write(emulator):
    emulator.hold(route="/discover/saved/", methods="POST", stage="after")
    results: list = []
    thread = post_in_thread(emulator, "committed", results)
    wait_until(lambda: emulator.holds()["held"] == 1)
    assert [q["name"] for q in emulator.client().get(URL).json()] == ["committed"]
    assert results == []
    emulator.release_holds()
    thread.join(timeout=10)
    assert [r.status_code for r in results] == [201]


def test_a_hold_lets_go_by_itself_after_its_timeout(emulator):
    emulator.hold(route="/discover/saved/", methods="POST", timeout=0.2)
    response = emulator.client().post(URL, json=body("late"))
    assert response.status_code == 201
    assert emulator.holds()["released"] == 1


def test_bad_hold_settings_are_a_400(emulator):
    for bad in ({"stage": "during"}, {"after": -1}, {"timeout": 0}, {"colour": "red"}):
        response = emulator.admin.put("holds/", json=bad)
        assert response.status_code == 400, bad
        assert "detail" in response.json()
    assert emulator.holds()["hold"] is None
