from apscheduler.schedulers.background import BackgroundScheduler

from dashboard.scheduler import FULL_JOB_ID, PIPELINE_JOB_ID, build_scheduler, scheduled_jobs
from dashboard.settings import Settings
from data.jobs import RefreshJobs


def test_two_coalesced_interval_jobs_from_the_settings(empty_engine):
    settings = Settings(analytics_refresh_interval_ms=120_000, pipeline_refresh_interval_ms=30_000)
    scheduler = build_scheduler(RefreshJobs(empty_engine, on_success=lambda: None), settings)
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
    _run(RefreshJobs(empty_engine, on_success=lambda: bumps.append(1)), ["pipeline"])
    assert bumps == [1]
