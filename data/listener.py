"""The live-refresh listener: LISTEN for captured changes, apply them in debounced batches, sweep for anything missed.

It runs in the scheduler process (`dashboard scheduler`, or a web process with SCHEDULER_ENABLED) on a thread of its
own with a dedicated connection. The first notification of a quiet period opens a batch window of `debounce_ms`;
the views announced within it are applied together and `on_batch` runs once if any store changed (the data
generation bump). A sweep applies every view at start-up, after a reconnect and every `sweep_ms`, so a change whose
notification was lost (dropped connection, restart) waits at most that long; it also forgets old batch records and
vacuums the change queues and the KPI stores.

Any number of processes may listen. A batch takes its view's advisory lock, so each change is applied once; a process
that finds the lock held keeps the view pending and tries again after the debounce, since the holder may have begun
before the change committed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from data.live import CHANNEL, BatchResult, apply_changes, prune_batches, vacuum_live_tables
from data.refresh import VIEWS

log = logging.getLogger(__name__)
# Longest single wait for a notification, so that stop() is noticed promptly.
POLL_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0


@dataclass(frozen=True)
class LiveBatch:
    """What one batch did, handed to `on_batch`: per view, what was consumed and which facilities changed."""

    reason: str  # notify | sweep
    results: tuple[BatchResult, ...]

    @property
    def changed_views(self) -> list[str]:
        return [r.view for r in self.results if r.groups > 0]

    @property
    def changes(self) -> int:
        return sum(r.changes for r in self.results)

    @property
    def changed_facilities(self) -> dict[str, tuple[int, ...] | None]:
        """Per changed view, the facilities whose rows changed (None: the whole view was recomputed)."""
        return {r.view: (None if r.status == "full" else r.facility_ids) for r in self.results if r.groups > 0}


class LiveRefresher:
    """Applies captured changes as they are announced; `start()` runs it on a daemon thread, `stop()` ends it."""

    def __init__(
        self,
        engine: Engine,
        on_batch: Callable[[LiveBatch], object],
        *,
        debounce_ms: int = 1000,
        sweep_ms: int = 60_000,
        channel: str = CHANNEL,
    ) -> None:
        self.engine = engine
        self.on_batch = on_batch
        self.debounce = debounce_ms / 1000
        self.sweep_interval = sweep_ms / 1000
        self.channel = channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Set once listening and the first sweep is done: every change committed from then on is announced.
        self.ready = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.ready.clear()
        self._thread = threading.Thread(target=self._run, name="live-refresh", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def apply(self, views: Iterable[str], reason: str) -> LiveBatch:
        """Apply the queued changes of `views` now; run `on_batch` once if any store changed."""
        batch = LiveBatch(reason, tuple(apply_changes(self.engine, views)))
        for result in batch.results:
            if result.status == "failed":
                log.warning("live refresh of %s failed (its changes stay queued): %s", result.view, result.error)
            elif result.status == "full":
                log.info("live refresh of %s recomputed the whole view (a TRUNCATE, or the store was out of step "
                         "with its queue)", result.view)
        if batch.changed_views:
            log.debug("live batch (%s): %s", reason, ", ".join(
                f"{r.view} {r.changes} changes -> {r.groups} rows in {r.duration_ms:.1f} ms"
                for r in batch.results if r.groups > 0))
            try:
                self.on_batch(batch)
            except Exception:
                log.exception("could not announce a live batch (bump the data versions)")
        return batch

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        pending: set[str] = set()
        due: float | None = None  # when the pending views' batch runs
        next_sweep = 0.0
        reconnect_wait = 1.0
        while not self._stop.is_set():
            if conn is None:
                conn = self._connect()
                if conn is None:
                    self._stop.wait(reconnect_wait)
                    reconnect_wait = min(reconnect_wait * 2, RECONNECT_MAX_SECONDS)
                    continue
                reconnect_wait = 1.0
                next_sweep = 0.0  # whatever was announced while nobody here listened
            now = time.monotonic()
            if now >= next_sweep:
                pending = self._batch(VIEWS, "sweep")
                due = now + self.debounce if pending else None
                next_sweep = time.monotonic() + self.sweep_interval
                self._housekeeping()
                self.ready.set()
                continue
            if due is not None and now >= due:
                pending = self._batch(pending, "notify")
                due = time.monotonic() + self.debounce if pending else None
                continue
            wait = min(next_sweep, due if due is not None else next_sweep, now + POLL_SECONDS) - now
            try:
                for note in conn.notifies(timeout=max(wait, 0.0), stop_after=1):
                    if note.payload in VIEWS:
                        pending.add(note.payload)
                        due = due if due is not None else time.monotonic() + self.debounce
            except psycopg.Error as exc:
                log.warning("live refresh lost its LISTEN connection (%s); reconnecting", exc)
                conn = self._close(conn)
        self._close(conn)

    def _batch(self, views: Iterable[str], reason: str) -> set[str]:
        """Apply `views`; returns those to try again soon (busy elsewhere). Failures wait for the next sweep."""
        try:
            batch = self.apply(views, reason)
        except Exception as exc:  # the database is unreachable: the sweep tries again
            log.warning("live refresh could not apply changes (%s); the next sweep retries", exc)
            return set()
        return {r.view for r in batch.results if r.status == "busy"}

    def _connect(self) -> psycopg.Connection | None:
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            conn = psycopg.connect(url, autocommit=True, application_name="recruit-dashboard-live")
            conn.execute(sql.SQL("listen {}").format(sql.Identifier(self.channel)))
        except psycopg.Error as exc:
            log.warning("live refresh cannot LISTEN (%s); retrying", exc)
            return None
        return conn

    def _housekeeping(self) -> None:
        """Housekeeping at every sweep: forget old batch records, clear the dead rows of the queues and stores."""
        try:
            prune_batches(self.engine)
        except Exception:
            log.exception("could not prune old live batch records")
        try:
            vacuum_live_tables(self.engine)
        except Exception:
            log.exception("could not vacuum the change queues and KPI stores")

    @staticmethod
    def _close(conn: psycopg.Connection | None) -> None:
        if conn is not None and not conn.closed:
            conn.close()
