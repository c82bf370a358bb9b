"""The live-refresh listener (data/listener.py): debounced batches, sweeps for missed notifications, reconnects,
retries while another process holds a view, and every change applied once by any number of listeners."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from data.engine import psycopg_connection
from data.listener import LiveBatch, LiveRefresher
from data.live import differences, freshness
from data.queries import fetch_dataset
from data.refresh import REFRESH_LOCK_BASE, VIEWS

QUIET = 3_600_000  # a sweep interval no test waits for


class Hook:
    """Stands in for the data generation bump: records each batch it is told about."""

    def __init__(self) -> None:
        self.batches: list[LiveBatch] = []
        self._changed = threading.Condition()

    def __call__(self, batch: LiveBatch) -> None:
        with self._changed:
            self.batches.append(batch)
            self._changed.notify_all()

    def wait(self, count: int, timeout: float = 20.0) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.batches) >= count, timeout), \
                f"{len(self.batches)} of {count} batches after {timeout} s"


@contextmanager
def running(refresher: LiveRefresher) -> Iterator[LiveRefresher]:
    refresher.start()
    try:
        assert refresher.ready.wait(20), "the listener did not start"
        yield refresher
    finally:
        refresher.stop()
    assert not refresher.running


@pytest.fixture
def engine(empty_engine):
    with psycopg_connection(empty_engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'A'), (2, 'B')")
    yield empty_engine
    empty_engine.dispose()  # the test server's connections are shared: give back what these tests pooled


def add_application(engine, facility_id: int = 1) -> None:
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " values (%s, 'sms', '2026-05-10T00:00:00Z')", (facility_id,))


def applications(engine) -> list[int]:
    return fetch_dataset(engine, "pipeline")["applications"].tolist()


def test_changes_within_the_debounce_window_are_one_batch_and_one_bump(engine):
    hook = Hook()
    with running(LiveRefresher(engine, hook, debounce_ms=1000, sweep_ms=QUIET)):
        first = time.monotonic()
        for _ in range(3):
            add_application(engine)
        hook.wait(1)
        waited = time.monotonic() - first
        time.sleep(1.5)  # nothing else was announced: no second batch
    [batch] = hook.batches
    assert batch.reason == "notify" and batch.changed_views == ["pipeline"] and batch.changes == 3
    assert waited >= 1.0, "the batch waited for the rest of the window"
    assert applications(engine) == [3]


def test_changes_made_while_nobody_listened_are_applied_at_start(engine):
    add_application(engine)
    hook = Hook()
    with running(LiveRefresher(engine, hook, sweep_ms=QUIET)):
        pass  # ready means the start-up sweep is done
    assert [b.reason for b in hook.batches] == ["sweep"] and applications(engine) == [1]


def queue_pages(engine) -> int:
    with psycopg_connection(engine) as conn:
        return conn.execute("select pg_relation_size('analytics.pipeline_changes')"
                            " / current_setting('block_size')::int").fetchone()[0]


def test_each_sweep_clears_the_dead_rows_batches_leave_in_the_queues(engine):
    """A batch deletes the queue rows it applied; the sweep vacuums the queues, so that where autovacuum is off (as
    on this project's CI PostgreSQL) they do not grow by every change ever captured."""
    for _ in range(60):
        add_application(engine)
    assert queue_pages(engine) > 0
    with running(LiveRefresher(engine, Hook(), sweep_ms=QUIET)):
        pass  # ready means the start-up sweep, its batch and its housekeeping are done
    assert applications(engine) == [60]
    assert queue_pages(engine) == 0  # every row was dead, so VACUUM gave the pages back


def test_a_change_whose_notification_is_lost_is_applied_by_the_periodic_sweep(engine):
    hook = Hook()
    # Listening on a channel nobody notifies: only sweeps can find the change.
    with running(LiveRefresher(engine, hook, debounce_ms=50, sweep_ms=1000, channel="nobody_notifies_this")):
        add_application(engine)
        hook.wait(1)
    assert [b.reason for b in hook.batches] == ["sweep"] and applications(engine) == [1]


def test_a_dropped_connection_is_reopened_and_nothing_is_missed(engine):
    hook = Hook()
    with running(LiveRefresher(engine, hook, debounce_ms=100, sweep_ms=QUIET)), \
            psycopg_connection(engine, autocommit=True) as admin:
        killed = admin.execute(
            "select count(*) filter (where pg_terminate_backend(pid)) from pg_stat_activity"
            " where datname = current_database() and application_name = 'recruit-dashboard-live'").fetchone()[0]
        assert killed == 1
        add_application(engine)  # announced while the listener may not be listening: the reconnect sweeps
        hook.wait(1)
        deadline = time.monotonic() + 20
        while admin.execute("select count(*) from pg_stat_activity where datname = current_database()"
                            " and application_name = 'recruit-dashboard-live'").fetchone()[0] != 1:
            assert time.monotonic() < deadline, "the listener did not reconnect"
            time.sleep(0.05)
        add_application(engine, facility_id=2)  # and the next change is heard on the new connection
        hook.wait(2)
    assert applications(engine) == [1, 1]


def test_a_view_busy_in_another_process_is_retried(engine):
    hook = Hook()
    with running(LiveRefresher(engine, hook, debounce_ms=100, sweep_ms=QUIET)), \
            psycopg_connection(engine, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s)", (REFRESH_LOCK_BASE + VIEWS.index("pipeline"),))
        add_application(engine)
        time.sleep(0.6)  # several attempts, each finding the view busy
        assert hook.batches == [] and freshness(engine)["pipeline"].queue_depth == 1
        other.execute("select pg_advisory_unlock_all()")
        hook.wait(1)
    assert applications(engine) == [1]


def test_two_listeners_apply_each_change_exactly_once(engine):
    hooks = [Hook(), Hook()]
    writes = 30
    with running(LiveRefresher(engine, hooks[0], debounce_ms=100, sweep_ms=QUIET)), \
            running(LiveRefresher(engine, hooks[1], debounce_ms=100, sweep_ms=QUIET)):
        for i in range(writes):
            add_application(engine, facility_id=1 + i % 2)
            time.sleep(0.02)
        deadline = time.monotonic() + 20
        while freshness(engine)["pipeline"].queue_depth:
            assert time.monotonic() < deadline, "the queue was not drained"
            time.sleep(0.05)
        time.sleep(0.3)  # let a batch that found nothing left finish
    batches = [b for hook in hooks for b in hook.batches]
    assert sum(b.changes for b in batches) == writes, "every queued change applied once, by one of the two"
    with psycopg_connection(engine) as conn:
        recorded = conn.execute("select count(*), sum(changes) from app.live_batches where view = 'pipeline'"
                                " and kind = 'incremental'").fetchone()
    assert recorded == (len(batches), writes)
    assert differences(engine) == dict.fromkeys(VIEWS, 0) and applications(engine) == [15, 15]
