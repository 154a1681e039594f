"""The disk-backed TTL cache behind `dexter query`: served across instances (runs) within
the TTL, never across Sentry URLs or tokens, and a stale, corrupt or foreign file is a miss."""

from __future__ import annotations

import stat

from dexter_sync.sentry.query_cache import DiskTTLCache

KEY = ("discover-table", "acme", (("field", ("release", "count()")),), 100)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def cache(tmp_path, clock: Clock, salt: str = "https://sentry.example|token-a") -> DiskTTLCache:
    return DiskTTLCache(ttl=60, directory=tmp_path / "cache", salt=salt, clock=clock,
                        wall_clock=clock)


def test_a_second_run_is_served_from_disk_within_the_ttl(tmp_path):
    clock = Clock()
    first = cache(tmp_path, clock)
    assert first.get(KEY) == (False, None)
    first.put(KEY, {"rows": [{"count()": 3}]})
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    second = cache(tmp_path, clock)  # a new process: empty memory
    clock.now += 59
    assert second.get(KEY) == (True, {"rows": [{"count()": 3}]})
    assert (second.hits, second.misses, second.disk_hits) == (1, 0, 1)
    clock.now += 2
    assert cache(tmp_path, clock).get(KEY) == (False, None)  # past the TTL


def test_never_shared_across_sentries_or_tokens_and_corrupt_files_miss(tmp_path):
    clock = Clock()
    cache(tmp_path, clock).put(KEY, {"rows": []})
    assert cache(tmp_path, clock, salt="https://sentry.example|token-b").get(KEY)[0] is False
    assert cache(tmp_path, clock, salt="https://other.example|token-a").get(KEY)[0] is False
    for path in (tmp_path / "cache").iterdir():
        path.write_text("{not json")
    assert cache(tmp_path, clock).get(KEY) == (False, None)
    # keys that are not Discover results stay in memory only
    memory = cache(tmp_path, clock)
    memory.put(("directory", "acme"), object())
    assert len(list((tmp_path / "cache").iterdir())) == 1
