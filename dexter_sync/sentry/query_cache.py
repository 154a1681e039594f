"""The gateway's TTL cache, backed by files for Discover results, so that repeated
`dexter query` runs within the TTL are served without asking Sentry again.

Only keys whose first element is in `PERSISTENT` go to disk (JSON values); everything else
stays in memory as before. Files live in `.dexter/cache/` (directory 0700, files 0600),
named by a SHA-256 of the Sentry URL, a hash of the token and the request: a cached answer
is never served to another Sentry or another token, and neither appears in a file.
Expiry on disk is wall-clock time; a corrupt or unreadable file is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import TTLCache
from .connect import TOKEN_ENV
from .gateway import Gateway

log = logging.getLogger(__name__)

PERSISTENT = frozenset({"discover-table", "discover-series"})
DEFAULT_DIRECTORY = Path(".dexter") / "cache"


@dataclass
class DiskTTLCache(TTLCache):
    directory: Path = DEFAULT_DIRECTORY
    salt: str = ""
    wall_clock: Any = field(default=time.time)
    disk_hits: int = 0

    def _file(self, key: Hashable) -> Path | None:
        if not (isinstance(key, tuple) and key and key[0] in PERSISTENT):
            return None
        digest = hashlib.sha256((self.salt + json.dumps(key, default=str)).encode()).hexdigest()
        return self.directory / f"{digest}.json"

    def get(self, key: Hashable) -> tuple[bool, Any]:
        found, value = super().get(key)
        path = self._file(key)
        if found or path is None:
            return found, value
        try:
            entry = json.loads(path.read_text())
            expires, value = float(entry["expires"]), entry["value"]
        except (OSError, ValueError, KeyError, TypeError):
            return False, None
        if expires <= self.wall_clock():
            return False, None
        self.misses -= 1  # the memory miss above was served from disk after all
        self.hits += 1
        self.disk_hits += 1
        super().put(key, value, ttl=expires - self.wall_clock())
        return True, value

    def put(self, key: Hashable, value: Any, *, ttl: float | None = None) -> None:
        super().put(key, value, ttl=ttl)
        path = self._file(key)
        if path is None:
            return
        entry = {"expires": self.wall_clock() + (self.ttl if ttl is None else ttl),
                 "value": value}
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(entry, handle)
            os.replace(temporary, path)
        except OSError as error:  # a cache that cannot write is only slower
            log.debug("query cache not written: %s", error)


def install_query_cache(gateway: Gateway, *, ttl: float,
                        directory: Path = DEFAULT_DIRECTORY) -> DiskTTLCache:
    """Give `gateway` a disk-backed cache for Discover results (hits/misses in its summary)."""
    token = os.environ.get(TOKEN_ENV) or ""
    salt = gateway.client.base_url + "|" + hashlib.sha256(token.encode()).hexdigest()
    cache = DiskTTLCache(ttl=ttl, directory=directory, salt=salt)
    gateway.cache = cache
    return cache
