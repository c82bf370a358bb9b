"""APScheduler jobs: a full refresh every ANALYTICS_REFRESH_INTERVAL, the pipeline every PIPELINE_REFRESH_INTERVAL;
and, with LIVE_REFRESH, the listener that applies captured changes within seconds (data/listener.py).

Any number of processes may run this: each view refresh takes a PostgreSQL advisory lock, and a process that cannot
get it records a skip, so each scheduled refresh happens once. Runs coalesce (a backlog becomes one run) and a run
that starts late within the grace time still runs; a failed run is simply retried at the next tick. Live batches take
the same locks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine

from dashboard.settings import Settings
from data.jobs import RefreshJobs
from data.listener import LiveBatch, LiveRefresher
from data.refresh import VIEWS, resolve_views

log = logging.getLogger(__name__)
FULL_JOB_ID = "refresh-all"
PIPELINE_JOB_ID = "refresh-pipeline"


def build_scheduler(jobs: RefreshJobs, settings: Settings, *, blocking: bool = False) -> BaseScheduler:
    scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    scheduler.add_job(
        _run, "interval", id=FULL_JOB_ID, name="refresh all views", kwargs={"jobs": jobs, "views": ["all"]},
        seconds=settings.analytics_refresh_interval_ms / 1000,
    )
    scheduler.add_job(
        _run, "interval", id=PIPELINE_JOB_ID, name="refresh pipeline", kwargs={"jobs": jobs, "views": ["pipeline"]},
        seconds=settings.pipeline_refresh_interval_ms / 1000,
    )
    return scheduler


class Schedule:
    """The refresh scheduler of this process, as the admin page and the queue stats read it."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    def next_runs(self) -> dict[str, datetime | None]:
        """Each view's next scheduled refresh."""
        upcoming: dict[str, datetime | None] = dict.fromkeys(VIEWS)
        for job in self.scheduler.get_jobs():
            at = job.next_run_time
            for view in resolve_views(job.kwargs.get("views", ["all"])):
                if at is not None and (upcoming[view] is None or at < upcoming[view]):
                    upcoming[view] = at
        return upcoming

    def jobs(self) -> list[dict]:
        return scheduled_jobs(self.scheduler)

    def pause(self) -> None:
        self.scheduler.pause()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)
def start_live_refresh(
    engine: Engine, settings: Settings, on_batch: Callable[[LiveBatch], object]
) -> LiveRefresher | None:
    """Start the listener that applies captured changes (None with LIVE_REFRESH=false: timed full refreshes only)."""
    if not settings.live_refresh:
        log.info("LIVE_REFRESH is off: the views change only at the timed full refreshes")
        return None
    refresher = LiveRefresher(engine, on_batch, debounce_ms=settings.live_refresh_debounce_ms,
                              sweep_ms=settings.live_refresh_sweep_ms)
    refresher.start()
    return refresher


def _run(jobs: RefreshJobs, views: list[str]) -> None:
    try:
        for result in jobs.run_now(views, trigger="schedule"):
            log.info("scheduled refresh of %s: %s (%s)", result.view, result.status,
                     result.error or f"{result.duration_ms} ms")
    except Exception:
        log.exception("scheduled refresh of %s failed; it runs again at the next interval", ", ".join(views))


def scheduled_jobs(scheduler: BaseScheduler | None) -> list[dict]:
    """id and next run time (ISO 8601 UTC) of each scheduled job, for /queue/stats and the admin page."""
    if scheduler is None:
        return []
    return [
        {"id": job.id, "next_run_time": job.next_run_time.isoformat() if job.next_run_time else None}
        for job in scheduler.get_jobs()
    ]
