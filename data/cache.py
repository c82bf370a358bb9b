"""The dataset cache and the data versions its keys carry.

Suppression depends only on the data, so one masked frame per view serves every user; scope and filters are applied
after the cache, so nothing cached belongs to a user. Only data is cached (frames, dicts, JSON bytes), never
application objects, and every key starts with a schema version derived from the code that shapes the cached data
(`SCHEMA_VERSION`), so two releases running side by side never read each other's entries.

Each view has its own data version, one Redis integer shared by every process on the database: a refresh or a live
batch bumps only the views it changed, and records which facilities changed (so a masked view can be rebuilt by
re-masking just their rows). Masked data is released at most once per `release_seconds` (MASKED_RELEASE_INTERVAL):
every process reads the version a release slot started with, so masked figures change in batches while admins'
unmasked figures follow every change.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")
VERSION_KEY = "recruit:data-version"
# How long a change record is kept: a process whose cached frame is older rebuilds the view instead of patching it.
CHANGE_TTL_SECONDS = 3600


def _schema_version() -> str:
    """A short hash of the modules whose code shapes what is cached (specs, masker, totals, figures, tiles)."""
    digest = hashlib.sha256()
    for package in ("data", "components"):
        for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".py"):
                digest.update(entry.name.encode())
                digest.update(entry.read_bytes())
    return digest.hexdigest()[:10]


SCHEMA_VERSION = _schema_version()
KEY_PREFIX = f"recruit:{SCHEMA_VERSION}"


class CacheBackend(Protocol):
    """The part of cachelib's BaseCache (what Flask-Caching wraps) that the dataset cache uses."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> bool: ...


def database_namespace(database_url: str) -> str:
    """A short stable name for a database, so apps on different databases sharing one Redis never mix keys."""
    url = make_url(database_url)
    identity = f"{url.host or ''}|{url.port or ''}|{url.database or ''}|{url.query.get('host', '')}"
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


class DataVersions(Protocol):
    """Per-view data versions, the facilities each version changed, and masked release slots."""

    def current(self, views: Sequence[str]) -> list[int]: ...
    def bump(self, view: str, facility_ids: Iterable[int] | None) -> int: ...
    def changed(self, view: str, after: int, upto: int) -> set[int] | None: ...
    def released(self, view: str, slot: int) -> int: ...


class RedisVersions:
    """Data versions in Redis, shared by every process and host using the same database."""

    def __init__(self, redis_url: str, namespace: str) -> None:
        import redis

        self._client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = f"{VERSION_KEY}:{namespace}"

    def current(self, views: Sequence[str]) -> list[int]:
        values = self._client.mget([f"{self._prefix}:{v}" for v in views])
        return [int(v) if v is not None else 0 for v in values]

    def bump(self, view: str, facility_ids: Iterable[int] | None) -> int:
        version = int(self._client.incr(f"{self._prefix}:{view}"))
        record = "null" if facility_ids is None else json.dumps(sorted(set(facility_ids)))
        self._client.set(f"{self._prefix}:{view}:changed:{version}", record, ex=CHANGE_TTL_SECONDS)
        return version

    def changed(self, view: str, after: int, upto: int) -> set[int] | None:
        """Facilities changed by versions after..upto; None when any of them is unknown or changed everything."""
        if upto <= after:
            return set()
        records = self._client.mget([f"{self._prefix}:{view}:changed:{v}" for v in range(after + 1, upto + 1)])
        return _union(records)

    def released(self, view: str, slot: int) -> int:
        """The version a release slot of this view started with: the first process to ask fixes it for all."""
        key = f"{self._prefix}:{view}:release:{slot}"
        current = self.current([view])[0]
        self._client.set(key, current, nx=True, ex=CHANGE_TTL_SECONDS)
        value = self._client.get(key)
        return int(value) if value is not None else current


class LocalVersions:
    """Data versions of this process alone (no Redis): other processes see a change only after the cache TTL."""

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._changes: dict[tuple[str, int], str] = {}
        self._releases: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def current(self, views: Sequence[str]) -> list[int]:
        return [self._versions.get(v, 0) for v in views]

    def bump(self, view: str, facility_ids: Iterable[int] | None) -> int:
        with self._lock:
            version = self._versions.get(view, 0) + 1
            self._versions[view] = version
            self._changes[(view, version)] = "null" if facility_ids is None else json.dumps(sorted(set(facility_ids)))
            return version

    def changed(self, view: str, after: int, upto: int) -> set[int] | None:
        return _union([self._changes.get((view, v)) for v in range(after + 1, upto + 1)])

    def released(self, view: str, slot: int) -> int:
        with self._lock:
            return self._releases.setdefault((view, slot), self._versions.get(view, 0))


def _union(records: Sequence[Any]) -> set[int] | None:
    out: set[int] = set()
    for record in records:
        ids = json.loads(record) if record is not None else None
        if ids is None:
            return None
        out.update(int(i) for i in ids)
    return out


def data_versions(redis_url: str | None, namespace: str) -> DataVersions:
    return RedisVersions(redis_url, namespace) if redis_url else LocalVersions()


class DatasetCache:
    """get-or-compute over a cachelib backend, with hit and miss counts for /api/v1/analytics/health.

    Keys are the caller's parts (which carry the data versions they depend on) under the schema version and the
    database's namespace. A small per-process copy of the last few values sits in front of the shared backend, so
    a hot read skips unpickling a whole view; `release_seconds` is how long masked data stays as released.
    """

    def __init__(
        self,
        backend: CacheBackend,
        versions: DataVersions,
        ttl_seconds: int,
        *,
        namespace: str = "default",
        local_entries: int = 128,
        release_seconds: int = 0,
    ) -> None:
        self.namespace = namespace
        self.backend = backend
        self.versions = versions
        self.ttl_seconds = ttl_seconds
        self.release_seconds = release_seconds
        self.hits = 0
        self.misses = 0
        # Counts per layer: "views" (the masked whole views and their lookups, the dataset cache proper) and
        # "selections" (totals and figures of one selection, a new key for every new facility/month choice).
        self.layers: dict[str, list[int]] = {"views": [0, 0], "selections": [0, 0]}
        self._lock = threading.Lock()
        self._local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._local_entries = local_entries
        self._flights: dict[str, list[Any]] = {}

    def key(self, *parts: object) -> str:
        return ":".join([KEY_PREFIX, self.namespace, *(str(p) for p in parts)])

    def peek(self, parts: tuple[object, ...]) -> Any:
        """The cached value under `parts`, or None, without computing or counting anything."""
        key = self.key(*parts)
        with self._lock:
            local = self._local.get(key)
        return local[1] if local is not None else self.backend.get(key)

    def get_or_compute(self, parts: tuple[object, ...], compute: Callable[[], T], *, layer: str = "views") -> T:
        key = self.key(*parts)
        counts = self.layers[layer]
        now = time.monotonic()
        with self._lock:
            local = self._local.get(key)
            if local is not None and (self.ttl_seconds == 0 or now - local[0] < self.ttl_seconds):
                self._local.move_to_end(key)
                self.hits += 1
                counts[0] += 1
                return local[1]
        value = self.backend.get(key)
        hit = value is not None
        if not hit:
            # One computation per key at a time in this process: the threads that miss the same key together (a
            # version bump under load) wait for the first one instead of each building the same thing again.
            with self._flight(key):
                with self._lock:
                    local = self._local.get(key)
                fresh = local is not None and (self.ttl_seconds == 0 or now - local[0] < self.ttl_seconds)
                value = local[1] if fresh else self.backend.get(key)
                hit = value is not None
                if not hit:
                    value = compute()
                    self.backend.set(key, value, timeout=self.ttl_seconds)
                    with self._lock:
                        self._local[key] = (now, value)
        with self._lock:
            if hit:
                self.hits += 1
                counts[0] += 1
            else:
                self.misses += 1
                counts[1] += 1
            self._local[key] = (now, value)
            while len(self._local) > self._local_entries:
                self._local.popitem(last=False)
        return value

    @contextmanager
    def _flight(self, key: str) -> Iterator[None]:
        """Hold the per-process lock of `key` (created on first use, dropped when nobody holds or waits for it)."""
        with self._lock:
            entry = self._flights.get(key)
            if entry is None:
                entry = self._flights[key] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    self._flights.pop(key, None)

    def release_slot(self, now: float | None = None) -> int:
        """The current release slot of masked data (0 when masked data follows every change)."""
        if self.release_seconds <= 0:
            return 0
        return int((time.time() if now is None else now) // self.release_seconds)

    def stats(self) -> dict[str, Any]:
        """All lookups, then per layer (see `layers`)."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "schema": SCHEMA_VERSION,
            **{layer: {"hits": h, "misses": m} for layer, (h, m) in self.layers.items()},
        }
