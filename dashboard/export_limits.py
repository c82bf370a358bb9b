"""Limits that keep one export from taking the service down (issue 12, item 5).

- Vector output (SVG, PDF) gets plain placeholders: the dotted (partial) and striped (range) bar patterns are drawn
  by Chromium's PDF printer as thousands of tiny paths (a three-facility chart took 7-12 s and 6-14 MB, all
  facilities 38 s and 18 MB), so they become plain grey fills with the series colour as outline, and the legend key
  says "grey". PNG exports and the report's images keep the patterns, each given its bar's colour as background
  (`pattern_backgrounds`): without one plotly.js draws only the pattern's white marks, and a partial bar was
  invisible. The pages keep their patterns: only the export path changes.
- A data-point budget (EXPORT_MAX_POINTS) is checked before anything is rendered, a size budget (EXPORT_MAX_MB)
  after: over either, a 400 with a message naming what to narrow.
- Per-user export slots (EXPORT_CONCURRENCY_PER_USER), shared by every process through Redis (a sorted set per user
  whose members expire, so a slot held by a killed worker frees itself): one more is a 429 with Retry-After.
- A time budget (EXPORT_TIMEOUT_SECONDS, at most 25) that starts once the browser is up and cancels only the
  export running over it (dashboard/renderer.py): with a browser start (at most START_TIMEOUT_S) it stays under
  gunicorn's 60 s worker timeout.

`ExportRefused` is an AuthError, so the HTTP routes answer `{"error": message}` with its status and the export
menus' existing `except AuthError` shows its message.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from auth.errors import AuthError
from components import theme

log = logging.getLogger(__name__)
VECTOR_FORMATS = frozenset({"svg", "pdf"})

MAX_TIMEOUT_SECONDS = 25  # + a browser start (START_TIMEOUT_S) stays under gunicorn's 60 s
START_TIMEOUT_S = 30.0  # the browser start, before the time budget begins
RETRY_AFTER_S = 3  # what a 429 suggests: a normal export takes well under a second, a worst-case one about two
SLOT_KEY = "export-slots"
# A slot nobody released (its worker was killed) frees itself after the longest an export may take, and a margin.
SLOT_TTL_S = START_TIMEOUT_S + MAX_TIMEOUT_SECONDS + 15
REDIS_RETRY_S = 30.0  # after Redis failed, count locally this long before asking it again (one warning each time)

# Plain placeholders for vector output: partial values a solid mid grey, ranges a light grey, each outlined in the
# series colour (so a series stays recognisable) and named in the legend.
PARTIAL_FILL = "#B8C0C9"
RANGE_FILL = theme.GRID_COLOR
KEY_LABELS = {
    "key-partial": "Grey: leaves out hidden numbers",
    "key-range": "Light grey: the range the published numbers allow",
}


class ExportRefused(AuthError):
    """An export over a limit; the message is safe to show. `retry_after` (seconds) goes into Retry-After."""

    def __init__(self, message: str, *, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Budget:
    max_bytes: int
    max_points: int
    per_user: int
    timeout_s: float


def plain_placeholders(spec: dict[str, Any]) -> dict[str, Any]:
    """The figure (plotly JSON, changed in place and returned) with every patterned marker made a plain fill."""
    for trace in spec.get("data", ()):
        marker = trace.get("marker")
        if not isinstance(marker, dict):
            continue
        pattern = marker.get("pattern")
        if not isinstance(pattern, dict) or not pattern.get("shape"):
            continue
        role = (trace.get("meta") or {}).get("role") if isinstance(trace.get("meta"), dict) else None
        outline = marker.get("color") if isinstance(marker.get("color"), str) else theme.NEUTRAL_COLOR
        is_range = role in ("range", "key-range") or pattern.get("shape") == "/"
        marker.pop("pattern")
        marker["color"] = RANGE_FILL if is_range else PARTIAL_FILL
        marker["line"] = {**(marker.get("line") or {}), "color": outline, "width": 1.5}
        if role in KEY_LABELS:
            trace["name"] = KEY_LABELS[role]
    return spec


def pattern_backgrounds(spec: dict[str, Any]) -> dict[str, Any]:
    """The figure (plotly JSON, changed in place and returned) with each pattern given its bar's colour as
    background, where it has none: plotly.js fills a patterned bar with the pattern's background only."""
    for trace in spec.get("data", ()):
        marker = trace.get("marker")
        pattern = marker.get("pattern") if isinstance(marker, dict) else None
        if isinstance(pattern, dict) and pattern.get("shape") and not pattern.get("bgcolor"):
            color = marker.get("color")
            pattern["bgcolor"] = color if isinstance(color, str) else theme.NEUTRAL_COLOR
    return spec


def placeholders_for(fmt: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Plain placeholders for vector output, patterns with a background for PNG."""
    return plain_placeholders(spec) if fmt in VECTOR_FORMATS else pattern_backgrounds(spec)


def count_points(spec: dict[str, Any]) -> int:
    """What the browser has to draw: per trace the longest of its x, y (or every cell of z), summed."""
    total = 0
    for trace in spec.get("data", ()):
        longest = 0
        for axis in ("x", "y", "values", "labels"):
            values = trace.get(axis)
            if isinstance(values, list | tuple):
                longest = max(longest, len(values))
        z = trace.get("z")
        if isinstance(z, list | tuple):
            longest = max(longest, sum(len(row) if isinstance(row, list | tuple) else 1 for row in z))
        total += longest
    return total


def check_points(points: int, budget: Budget) -> None:
    if points > budget.max_points:
        raise ExportRefused(
            f"this export would draw {points:,} data points, over the limit of {budget.max_points:,} "
            "(EXPORT_MAX_POINTS); choose fewer facilities or months, or download the CSV")


def check_size(content: bytes, budget: Budget) -> None:
    if len(content) > budget.max_bytes:
        raise ExportRefused(
            f"this export came to {len(content) / 1e6:.1f} MB, over the limit of {budget.max_bytes / 1e6:g} MB "
            "(EXPORT_MAX_MB); choose fewer facilities or months, or a PNG, or download the CSV")


class ExportSlots:
    """At most `limit` exports at once per user, counted across every process sharing `redis_url`.

    Without Redis (or while it is unreachable) the count is this process's own, with a warning; an unreachable
    Redis is asked again after REDIS_RETRY_S, so an outage costs one connect timeout per interval, not per export.
    """

    _ACQUIRE = """
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
    if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
        redis.call('EXPIRE', KEYS[1], ARGV[5])
        return 1
    end
    return 0
    """

    def __init__(self, limit: int, redis_url: str | None, namespace: str, *, ttl_s: float = SLOT_TTL_S) -> None:
        self.limit = limit
        self.ttl_s = ttl_s
        self._prefix = f"{SLOT_KEY}:{namespace}"
        self._lock = threading.Lock()
        self._local: dict[int, int] = {}
        self._client: Any = None
        self._script: Any = None
        self._redis_down_until = 0.0
        if redis_url:
            import redis

            self._client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._script = self._client.register_script(self._ACQUIRE)

    @contextmanager
    def hold(self, user_id: int) -> Iterator[None]:
        """One slot of `user_id` for the block; ExportRefused (429, Retry-After) when all are taken."""
        token = self._acquire(user_id)
        if token is None:
            raise ExportRefused(
                f"you already have {self.limit} export{'' if self.limit == 1 else 's'} in progress; try again in a "
                "few seconds", status=429, retry_after=RETRY_AFTER_S)
        try:
            yield
        finally:
            self._release(user_id, token)

    def in_use(self, user_id: int) -> int:
        if self._redis_usable():
            try:
                key = f"{self._prefix}:{user_id}"
                self._client.zremrangebyscore(key, "-inf", time.time())
                return int(self._client.zcard(key))
            except Exception as exc:  # redis.RedisError: counted locally below
                self._redis_failed(exc)
        with self._lock:
            return self._local.get(user_id, 0)

    def _redis_usable(self) -> bool:
        return self._client is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: Exception) -> None:
        self._redis_down_until = time.monotonic() + REDIS_RETRY_S
        log.warning("export slots: Redis unreachable (%s); counting this process only for %.0f s", exc,
                    REDIS_RETRY_S)

    def _acquire(self, user_id: int) -> str | None:
        token = uuid.uuid4().hex
        if self._redis_usable():
            now = time.time()
            try:
                taken = self._script(keys=[f"{self._prefix}:{user_id}"],
                                     args=[now, self.limit, now + self.ttl_s, token, math.ceil(self.ttl_s)])
                return token if int(taken) == 1 else None
            except Exception as exc:  # redis.RedisError: degrade to this process's own count
                self._redis_failed(exc)
        with self._lock:
            if self._local.get(user_id, 0) >= self.limit:
                return None
            self._local[user_id] = self._local.get(user_id, 0) + 1
        return "local:" + token

    def _release(self, user_id: int, token: str) -> None:
        if token.startswith("local:"):
            with self._lock:
                left = self._local.get(user_id, 1) - 1
                if left > 0:
                    self._local[user_id] = left
                else:
                    self._local.pop(user_id, None)
            return
        try:
            self._client.zrem(f"{self._prefix}:{user_id}", token)
        except Exception as exc:  # the slot expires by itself after ttl_s
            log.warning("export slots: could not release a slot (%s); it expires in %.0f s", exc, self.ttl_s)
