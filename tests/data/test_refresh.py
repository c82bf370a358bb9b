import threading
import time

import pytest

from data.engine import psycopg_connection
from data.queries import fetch_dataset
from data.refresh import RefreshError, last_refreshed, refresh_views, resolve_views


def add_application(engine, facility_id: int = 1) -> None:
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (%s, %s) on conflict do nothing",
                     (facility_id, f"F{facility_id}"))
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " values (%s, 'email', '2026-05-10T00:00:00Z')", (facility_id,))


def test_refresh_records_each_view_and_shows_new_data(empty_engine):
    add_application(empty_engine)
    assert fetch_dataset(empty_engine, "pipeline").empty
    results = refresh_views(empty_engine, ["all"], trigger="cli")
    assert [(r.view, r.status) for r in results] == [
        ("pipeline", "succeeded"), ("compliance", "succeeded"), ("revenue", "succeeded"), ("outreach", "succeeded")]
    assert fetch_dataset(empty_engine, "pipeline")["applications"].tolist() == [1]
    with psycopg_connection(empty_engine) as conn:
        rows = conn.execute("select view, trigger, status, duration_ms is not null, finished_at is not null"
                            " from app.refresh_runs order by view").fetchall()
    assert rows == [(v, "cli", "succeeded", True, True) for v in ("compliance", "outreach", "pipeline", "revenue")]
    assert all(last_refreshed(empty_engine).values())


def test_a_failing_refresh_is_recorded_and_the_old_data_stays_readable(empty_engine):
    add_application(empty_engine)
    refresh_views(empty_engine, ["pipeline"], trigger="cli")
    add_application(empty_engine)
    with psycopg_connection(empty_engine, autocommit=True) as conn:
        # Hold a lock the refresh needs so that it runs into its statement timeout.
        conn.execute("begin")
        conn.execute("lock table recruiting.applications in access exclusive mode")
        [result] = refresh_views(empty_engine, ["pipeline"], trigger="cli", statement_timeout_ms=200)
        conn.execute("rollback")
    assert result.status == "failed" and "statement timeout" in result.error
    assert fetch_dataset(empty_engine, "pipeline")["applications"].tolist() == [1]
    with psycopg_connection(empty_engine) as conn:
        status, error = conn.execute(
            "select status, error from app.refresh_runs where id = %s", (result.run_id,)).fetchone()
    assert status == "failed" and "statement timeout" in error


def test_readers_are_not_blocked_while_a_view_refreshes(empty_engine):
    add_application(empty_engine)
    refresh_views(empty_engine, ["pipeline"], trigger="cli")
    add_application(empty_engine)
    # Hold the full recompute's transaction open after it rewrote the row: its locks are held until it ends.
    done = threading.Event()

    def slow_refresh():
        with psycopg_connection(empty_engine) as conn:
            conn.execute("select analytics.refresh_pipeline_kpis()")
            time.sleep(1.5)
        done.set()

    worker = threading.Thread(target=slow_refresh)
    worker.start()
    time.sleep(0.3)
    started = time.perf_counter()
    with psycopg_connection(empty_engine) as conn:
        conn.execute("set local lock_timeout = '500ms'")
        applications = conn.execute("select applications from analytics.pipeline_kpis_materialized").fetchone()[0]
    waited = time.perf_counter() - started
    worker.join()
    assert done.is_set() and applications == 1, "the reader sees the previous numbers until the refresh commits"
    assert waited < 0.5, "a reader waited on the refresh"
    assert fetch_dataset(empty_engine, "pipeline")["applications"].tolist() == [2]


def test_a_second_process_skips_a_view_that_is_already_refreshing(empty_engine):
    from data.refresh import REFRESH_LOCK_BASE

    with psycopg_connection(empty_engine, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (REFRESH_LOCK_BASE,))  # pipeline's lock, held elsewhere
        try:
            [result] = refresh_views(empty_engine, ["pipeline"], trigger="schedule")
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (REFRESH_LOCK_BASE,))
    assert result.status == "skipped"


def test_view_names_are_validated():
    assert resolve_views(["all"]) == ["pipeline", "compliance", "revenue", "outreach"]
    assert resolve_views(["revenue", "pipeline"]) == ["pipeline", "revenue"]
    with pytest.raises(RefreshError, match="unknown view"):
        resolve_views(["payroll"])
