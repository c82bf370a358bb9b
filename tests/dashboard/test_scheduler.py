import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from dashboard.scheduler import FULL_JOB_ID, PIPELINE_JOB_ID, build_scheduler, scheduled_jobs, start_live_refresh
from dashboard.settings import Settings
from data.engine import get_engine, psycopg_connection
from data.jobs import RefreshJobs
from data.live import differences, freshness
from data.queries import fetch_dataset
from data.refresh import VIEWS

ROOT = Path(__file__).resolve().parents[2]


def test_two_coalesced_interval_jobs_from_the_settings(empty_engine):
    settings = Settings(analytics_refresh_interval_ms=120_000, pipeline_refresh_interval_ms=30_000)
    scheduler = build_scheduler(RefreshJobs(empty_engine, on_success=lambda views: None), settings)
    assert isinstance(scheduler, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {FULL_JOB_ID, PIPELINE_JOB_ID}
        assert jobs[FULL_JOB_ID].trigger.interval.total_seconds() == 120
        assert jobs[PIPELINE_JOB_ID].trigger.interval.total_seconds() == 30
        assert all(job.coalesce and job.max_instances == 1 and job.misfire_grace_time for job in jobs.values())
        assert jobs[FULL_JOB_ID].kwargs["views"] == ["all"] and jobs[PIPELINE_JOB_ID].kwargs["views"] == ["pipeline"]
        listed = scheduled_jobs(scheduler)
        assert {entry["id"] for entry in listed} == {FULL_JOB_ID, PIPELINE_JOB_ID}
    finally:
        scheduler.shutdown(wait=False)
    assert scheduled_jobs(None) == []


def test_a_scheduled_tick_refreshes_and_bumps_once(empty_engine):
    from dashboard.scheduler import _run

    bumps: list[int] = []
    _run(RefreshJobs(empty_engine, on_success=lambda views: bumps.append(views)), ["pipeline"])
    assert bumps == [["pipeline"]]


@pytest.fixture
def engine(empty_engine):
    yield empty_engine
    empty_engine.dispose()  # the test server's connections are shared: give back what these tests pooled


def add_application(engine) -> None:
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'A') on conflict do nothing")
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " values (1, 'sms', '2026-05-10T00:00:00Z')")


def test_live_refresh_off_leaves_the_timed_full_refreshes(engine):
    from dashboard.scheduler import _run

    assert start_live_refresh(engine, Settings(live_refresh=False), lambda _batch: None) is None
    add_application(engine)
    time.sleep(0.3)
    assert freshness(engine)["pipeline"].queue_depth == 1, "nothing applies changes between full refreshes"
    assert fetch_dataset(engine, "pipeline").empty
    _run(RefreshJobs(engine, on_success=lambda views: None), ["all"])
    assert freshness(engine)["pipeline"].queue_depth == 0
    assert fetch_dataset(engine, "pipeline")["applications"].tolist() == [1]


def test_live_refresh_on_starts_the_listener_with_the_settings(engine):
    batches = []
    settings = Settings(live_refresh=True, live_refresh_debounce_ms=50, live_refresh_sweep_ms=120_000)
    live = start_live_refresh(engine, settings, batches.append)
    try:
        assert live is not None and live.running and live.debounce == 0.05 and live.sweep_interval == 120
        assert live.ready.wait(20)
        add_application(engine)
        deadline = time.monotonic() + 20
        while not batches:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        live.stop()
    assert fetch_dataset(engine, "pipeline")["applications"].tolist() == [1]


@pytest.mark.redis
def test_two_scheduler_processes_apply_each_change_once_and_bump_once_per_batch(make_database, redis_url):
    """Two `dashboard scheduler` processes on one database and Redis: every captured change is applied by exactly one
    of them, and each batch bumps the shared pipeline data version once."""
    import redis

    from data.cache import VERSION_KEY, database_namespace

    url = make_database()
    engine = get_engine(url)
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    env = {**os.environ, "DATABASE_URL": libpq, "REDIS_URL": redis_url, "LIVE_REFRESH_DEBOUNCE_MS": "200",
           "LIVE_REFRESH_SWEEP_INTERVAL": "2000", "LOG_LEVEL": "WARNING"}
    generation = redis.Redis.from_url(redis_url)
    key = f"{VERSION_KEY}:{database_namespace(url)}:pipeline"
    generation.delete(key)
    processes = [subprocess.Popen([sys.executable, "-c", "from dashboard.cli import main; main()", "scheduler"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(2)]
    writes = 40
    try:
        deadline = time.monotonic() + 60
        while listening(engine) < 2:
            assert time.monotonic() < deadline and all(p.poll() is None for p in processes), \
                [p.stderr.read().decode()[-2000:] for p in processes if p.poll() is not None]
            time.sleep(0.1)
        for _ in range(writes):
            add_application(engine)
            time.sleep(0.03)
        deadline = time.monotonic() + 30
        while freshness(engine)["pipeline"].queue_depth:
            assert time.monotonic() < deadline, "the queue was not drained"
            time.sleep(0.1)
        time.sleep(2.5)  # a sweep by each process: nothing left to apply, no further bump
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
    with psycopg_connection(engine) as conn:
        batches, applied = conn.execute("select count(*), sum(changes) from app.live_batches"
                                        " where view = 'pipeline' and kind = 'incremental'").fetchone()
    assert applied == writes, "each captured change applied exactly once"
    assert int(generation.get(key) or 0) == batches, "one version bump per batch"
    assert differences(engine) == dict.fromkeys(VIEWS, 0)
    generation.delete(key)
    engine.dispose()


def listening(engine) -> int:
    with psycopg_connection(engine) as conn:
        return conn.execute("select count(*) from pg_stat_activity where datname = current_database()"
                            " and application_name = 'recruit-dashboard-live'").fetchone()[0]
