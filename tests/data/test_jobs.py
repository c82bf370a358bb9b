import threading
import time

import pytest

from data.cache import LocalVersions
from data.engine import psycopg_connection
from data.jobs import RefreshJobs, job_status, recent_runs
from data.queries import fetch_dataset
from data.refresh import RefreshError


def wait_for(engine, job_id: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job_status(engine, job_id)
        if status.status in ("succeeded", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def add_application(engine) -> None:
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'A') on conflict do nothing")
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " values (1, 'sms', '2026-04-02T10:00:00Z')")


def test_a_job_runs_in_the_background_bumps_the_generation_once_and_shows_new_data(empty_engine):
    generation = LocalVersions()
    announced = []
    jobs = RefreshJobs(empty_engine, on_success=lambda views: announced.append(views) or generation.bump("all", None))
    add_application(empty_engine)
    job, already_running = jobs.submit(["all"], trigger="button", user_id=None)
    assert not already_running and job.status in ("queued", "running", "succeeded")
    assert job.views == ["pipeline", "compliance", "revenue", "outreach"]
    done = wait_for(empty_engine, job.job_id)
    assert done.status == "succeeded" and done.duration_ms is not None and done.error is None
    assert generation.current(["all"]) == [1]
    assert announced == [["pipeline", "compliance", "revenue", "outreach"]]
    assert fetch_dataset(empty_engine, "pipeline")["applications"].tolist() == [1]
    assert {r["trigger"] for r in recent_runs(empty_engine)} == {"button"}


def test_a_request_for_a_view_already_refreshing_gets_the_running_job(empty_engine):
    jobs = RefreshJobs(empty_engine, on_success=lambda: None)
    # Keep the pipeline refresh busy: hold a lock its REFRESH needs for a moment.
    blocker = threading.Event()

    def hold_lock():
        with psycopg_connection(empty_engine) as conn:
            conn.execute("lock table recruiting.applications in access exclusive mode")
            blocker.set()
            time.sleep(1.0)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    blocker.wait(5)
    first, first_running = jobs.submit(["pipeline"], trigger="api")
    second, second_running = jobs.submit(["pipeline", "revenue"], trigger="button")
    holder.join()
    assert not first_running and second_running and second.job_id == first.job_id
    assert wait_for(empty_engine, first.job_id).status == "succeeded"
    third, third_running = jobs.submit(["pipeline"], trigger="api")
    assert not third_running and third.job_id != first.job_id
    assert wait_for(empty_engine, third.job_id).status == "succeeded"


def test_a_failed_job_reports_the_error_and_the_old_data_stays(empty_engine):
    jobs = RefreshJobs(empty_engine, on_success=lambda: None)
    add_application(empty_engine)
    jobs.run_now(["pipeline"], trigger="cli")
    with psycopg_connection(empty_engine) as conn:
        conn.execute("alter table analytics.pipeline_kpis_materialized rename to pipeline_broken")
        conn.execute("create table analytics.pipeline_kpis_materialized as select 1 as x")
    try:
        job, _ = jobs.submit(["pipeline"], trigger="api")
        done = wait_for(empty_engine, job.job_id)
    finally:
        with psycopg_connection(empty_engine) as conn:
            conn.execute("drop table analytics.pipeline_kpis_materialized")
            conn.execute("alter table analytics.pipeline_broken rename to pipeline_kpis_materialized")
    assert done.status == "failed" and "pipeline" in done.error
    assert fetch_dataset(empty_engine, "pipeline")["applications"].tolist() == [1]


def test_two_schedulers_at_once_refresh_each_view_once(empty_engine):
    add_application(empty_engine)
    bumps = []
    processes = [RefreshJobs(empty_engine, on_success=lambda: bumps.append(1)) for _ in range(2)]
    results: list = []
    start = threading.Barrier(2)

    def tick(jobs):
        start.wait()
        results.extend(jobs.run_now(["all"], trigger="schedule"))

    threads = [threading.Thread(target=tick, args=(p,)) for p in processes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_view: dict[str, list[str]] = {}
    for r in results:
        by_view.setdefault(r.view, []).append(r.status)
    for view, statuses in by_view.items():
        assert statuses.count("succeeded") <= 1, view
        assert statuses.count("succeeded") + statuses.count("skipped") == 2, view
        assert "succeeded" in statuses or "skipped" in statuses


def test_unknown_views_are_refused(empty_engine):
    with pytest.raises(RefreshError):
        RefreshJobs(empty_engine, on_success=lambda: None).submit(["nope"], trigger="api")
