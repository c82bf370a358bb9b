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
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")
log = logging.getLogger(__name__)
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

    def raise_to(self, view: str, version: int) -> None:
        """Make the view's version at least `version` (it only ever grows; racing processes may overshoot)."""
        key = f"{self._prefix}:{view}"
        current = int(self._client.get(key) or 0)
        if current < version:
            self._client.incrby(key, version - current)

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


def data_versions(redis_url: str | None, namespace: str, health: RedisHealth | None = None) -> DataVersions:
    """Redis-shared versions (falling back to this process's own while Redis is away), or local ones without Redis."""
    if not redis_url:
        return LocalVersions()
    return FallbackVersions(RedisVersions(redis_url, namespace), health or RedisHealth(redis_url))


# --- a Redis outage: each process falls back to its own memory, and comes back by itself ---------------------------

REDIS_RETRY_SECONDS = 5.0  # while Redis is away, try it again at most this often (a down Redis costs no waiting)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.RedisError, OSError)


class RedisHealth:
    """Whether Redis answered lately, shared by the cache backend and the data versions of one process.

    The first failure logs one warning and switches to the in-process fallbacks; Redis is tried again every
    `retry_seconds`; the first success after that logs its return and runs the `on_recover` callbacks.
    """

    def __init__(self, redis_url: str, *, retry_seconds: float = REDIS_RETRY_SECONDS) -> None:
        self.where = _redis_location(redis_url)
        self.retry_seconds = retry_seconds
        self.down_since: float | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()
        self._on_recover: list[Callable[[], None]] = []
        self.errors = _redis_errors()

    @property
    def up(self) -> bool:
        return self.down_since is None

    def on_recover(self, callback: Callable[[], None]) -> None:
        self._on_recover.append(callback)

    def should_try(self) -> bool:
        return self.down_since is None or time.monotonic() >= self._next_try

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self._next_try = time.monotonic() + self.retry_seconds
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        log.warning("Redis at %s is not answering (%s): this process uses its own in-memory cache and data "
                    "versions until it answers again (tried every %.0f s)", self.where, type(exc).__name__,
                    self.retry_seconds)

    def succeeded(self) -> None:
        if self.down_since is None:
            return
        with self._lock:
            if self.down_since is None:
                return
            away = time.monotonic() - self.down_since
            self.down_since = None
        log.warning("Redis at %s answers again after %.0f s: back to the shared cache and data versions",
                    self.where, away)
        for callback in self._on_recover:
            try:
                callback()
            except self.errors as exc:
                self.failed(exc)


def _redis_location(redis_url: str) -> str:
    """host:port/db of a Redis URL, never its password."""
    url = make_url(redis_url.replace("redis://", "postgresql://", 1).replace("rediss://", "postgresql://", 1))
    return f"{url.host or 'localhost'}:{url.port or 6379}/{url.database or 0}"


class FallbackBackend:
    """The shared cache backend (Redis), and this process's own cache while Redis does not answer.

    Keys carry data versions, so an entry cached locally during an outage is as right as a shared one; when Redis
    answers again reads and writes go there.
    """

    def __init__(self, shared: CacheBackend, local: CacheBackend, health: RedisHealth) -> None:
        self.shared, self.local, self.health = shared, local, health

    def get(self, key: str) -> Any:
        if self.health.should_try():
            try:
                value = self.shared.get(key)
            except self.health.errors as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return value
        return self.local.get(key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.health.should_try():
            try:
                done = bool(self.shared.set(key, value, timeout=timeout))
            except self.health.errors as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return done
        return bool(self.local.set(key, value, timeout=timeout))


class FallbackVersions:
    """Redis-shared data versions that never go backwards in this process, with a Redis outage survived.

    The process remembers the highest version it has seen or made of each view (its floor). While Redis is away a
    change bumps the floor here (other processes see it after their cache TTL). Whenever Redis holds less than the
    floor (it came back empty, or lost keys), or when it answers again after an outage, each view known here is
    raised above its floor there and bumped once more with "everything changed", so no process trusts a cached entry
    made before or during the outage.
    """

    def __init__(self, shared: RedisVersions, health: RedisHealth) -> None:
        self.shared, self.health = shared, health
        self._floor: dict[str, int] = {}
        self._changes: dict[tuple[str, int], str] = {}
        self._releases: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        health.on_recover(self.resync)

    def current(self, views: Sequence[str]) -> list[int]:
        if self.health.should_try():
            try:
                values = self.shared.current(views)
                if any(v < self._floor.get(view, 0) for view, v in zip(views, values, strict=True)):
                    self.resync()
                    values = self.shared.current(views)
            except self.health.errors as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return [self._raise_floor(view, v) for view, v in zip(views, values, strict=True)]
        return [self._floor.get(view, 0) for view in views]

    def bump(self, view: str, facility_ids: Iterable[int] | None) -> int:
        if self.health.should_try():
            try:
                version = self.shared.bump(view, facility_ids)
            except self.health.errors as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                if version <= self._floor.get(view, 0):  # Redis lost its count: lift it above what was served
                    self.resync()
                    return self.current([view])[0]
                return self._raise_floor(view, version)
        with self._lock:
            version = self._floor.get(view, 0) + 1
            self._floor[view] = version
            self._changes[(view, version)] = "null" if facility_ids is None else json.dumps(sorted(set(facility_ids)))
            return version

    def changed(self, view: str, after: int, upto: int) -> set[int] | None:
        if upto <= after:
            return set()
        local = [self._changes.get((view, v)) for v in range(after + 1, upto + 1)]
        if all(record is not None for record in local):
            return _union(local)
        if self.health.should_try():
            try:
                return self.shared.changed(view, after, upto)
            except self.health.errors as exc:
                self.health.failed(exc)
        return None  # unknown: the caller rebuilds the whole view

    def released(self, view: str, slot: int) -> int:
        if self.health.should_try():
            try:
                self.current([view])  # lifts Redis first when it lost its count
                value = self.shared.released(view, slot)
            except self.health.errors as exc:
                self.health.failed(exc)
            else:
                self.health.succeeded()
                return self._raise_release(view, value)
        with self._lock:
            value = self._releases.setdefault((view, slot), self._floor.get(view, 0))
        return self._raise_release(view, value)

    def _raise_release(self, view: str, value: int) -> int:
        """Masked releases never go backwards either."""
        with self._lock:
            last = max(self._releases.get((view, -1), 0), value)
            self._releases[(view, -1)] = last
            return last

    def resync(self) -> None:
        """Lift every view known here above its floor in Redis, then mark it changed everywhere."""
        for view, floor in list(self._floor.items()):
            self.shared.raise_to(view, floor)
            self._raise_floor(view, self.shared.bump(view, None))

    def _raise_floor(self, view: str, version: int) -> int:
        with self._lock:
            floor = max(self._floor.get(view, 0), version)
            self._floor[view] = floor
            return floor


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
