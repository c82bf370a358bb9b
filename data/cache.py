"""The dataset cache: masked whole-view frames keyed by dataset, masking mode, threshold and data generation.

Suppression depends only on the data, never on who asks, so one masked frame per view serves every user; scope
and filters are applied after the cache, so nothing cached belongs to a user. A refresh bumps the generation (one
Redis INCR shared by every process), which retires every key at once; the TTL bounds what a lost bump could cost.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.engine import make_url

T = TypeVar("T")
GENERATION_KEY = "recruit:data-generation"
KEY_PREFIX = "recruit:v1"


class CacheBackend(Protocol):
    """The part of cachelib's BaseCache (what Flask-Caching wraps) that the dataset cache uses."""

    def get(self, key: str) -> Any: ...
    def set(self, key: str, value: Any, timeout: int | None = None) -> bool: ...


class GenerationCounter(Protocol):
    def current(self) -> int: ...
    def bump(self) -> int: ...


def database_namespace(database_url: str) -> str:
    """A short stable name for a database, so apps on different databases sharing one Redis never mix keys."""
    url = make_url(database_url)
    identity = f"{url.host or ''}|{url.port or ''}|{url.database or ''}|{url.query.get('host', '')}"
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


class RedisGeneration:
    """The data generation as one Redis integer, shared by every process and host using the same database."""

    def __init__(self, redis_url: str, namespace: str) -> None:
        import redis

        self._client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._key = f"{GENERATION_KEY}:{namespace}"

    def current(self) -> int:
        value = self._client.get(self._key)
        return int(value) if value is not None else 0

    def bump(self) -> int:
        return int(self._client.incr(self._key))


class LocalGeneration:
    """The data generation of this process alone (no Redis): other processes see a refresh only after the TTL."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def current(self) -> int:
        return self._value

    def bump(self) -> int:
        with self._lock:
            self._value += 1
            return self._value


def generation_counter(redis_url: str | None, namespace: str) -> GenerationCounter:
    return RedisGeneration(redis_url, namespace) if redis_url else LocalGeneration()


class DatasetCache:
    """get-or-compute over a cachelib backend, with hit and miss counts for /api/v1/analytics/health.

    A small per-process copy of the last few values sits in front of the shared backend: keys carry the
    generation, so a bump retires the copies too, and a hot page read skips unpickling a whole view.
    """

    def __init__(
        self,
        backend: CacheBackend,
        generation: GenerationCounter,
        ttl_seconds: int,
        *,
        namespace: str = "default",
        local_entries: int = 128,
    ) -> None:
        self.namespace = namespace
        self.backend = backend
        self.generation = generation
        self.ttl_seconds = ttl_seconds
        self.hits = 0
        self.misses = 0
        # Counts per layer: "views" (the masked whole views and their lookups, the dataset cache proper) and
        # "selections" (totals and figures of one selection, a new key for every new facility/month choice).
        self.layers: dict[str, list[int]] = {"views": [0, 0], "selections": [0, 0]}
        self._lock = threading.Lock()
        self._local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._local_entries = local_entries

    def key(self, *parts: object) -> str:
        return ":".join([KEY_PREFIX, self.namespace, f"g{self.generation.current()}", *(str(p) for p in parts)])

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
        if value is None:
            value = compute()
            self.backend.set(key, value, timeout=self.ttl_seconds)
            hit = False
        else:
            hit = True
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

    def stats(self) -> dict[str, Any]:
        """All lookups, then per layer (see `layers`), and the data generation."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "generation": self.generation.current(),
            **{layer: {"hits": h, "misses": m} for layer, (h, m) in self.layers.items()},
        }
