"""Refresh jobs: a request queues views, a background thread refreshes them, any process can read the status.

A job is the set of app.refresh_runs rows sharing a job_id, so its status lives in PostgreSQL and every web process
answers alike. A request for a view that is already queued or running gets that job back instead of a second one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.refresh import RefreshResult, record_queued, refresh_views, resolve_views

log = logging.getLogger(__name__)
# A queued or running row older than this belongs to a process that died: it no longer blocks new requests.
STALE_AFTER = "1 hour"


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    status: str  # queued | running | succeeded | failed
    views: list[str]
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None
    trigger: str | None = None
    user_id: int | None = None
    runs: list[dict] = field(default_factory=list)


def job_status(engine: Engine, job_id: str) -> JobStatus | None:
    with psycopg_connection(engine) as conn:
        rows = conn.execute(
            "select view, status, started_at, finished_at, duration_ms, error, trigger, user_id"
            " from app.refresh_runs where job_id = %s order by id",
            (job_id,),
        ).fetchall()
    return _summarise(job_id, rows) if rows else None


def active_job_for(engine: Engine, views: Iterable[str]) -> JobStatus | None:
    """The newest job that is queued or running for any of `views`, if one is."""
    with psycopg_connection(engine) as conn:
        row = conn.execute(
            "select job_id from app.refresh_runs"
            " where status in ('queued', 'running') and job_id is not null and view = any(%s)"
            "   and started_at > now() - %s::interval"
            " order by id desc limit 1",
            (list(views), STALE_AFTER),
        ).fetchone()
    return job_status(engine, row[0]) if row else None


def active_jobs(engine: Engine) -> list[JobStatus]:
    with psycopg_connection(engine) as conn:
        ids = [r[0] for r in conn.execute(
            "select job_id from app.refresh_runs where status in ('queued', 'running') and job_id is not null"
            " and started_at > now() - %s::interval group by job_id order by min(id)",
            (STALE_AFTER,),
        ).fetchall()]
    return [s for s in (job_status(engine, i) for i in ids) if s is not None]


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    """The newest refresh runs with who triggered them, for the admin page and the queue stats."""
    with psycopg_connection(engine) as conn, conn.cursor() as cur:
        cur.execute(
            "select r.id, r.job_id, r.view, r.trigger, r.status, r.started_at, r.finished_at, r.duration_ms,"
            " r.error, u.email as user_email"
            " from app.refresh_runs r left join app.users u on u.id = r.user_id order by r.id desc limit %s",
            (limit,),
        )
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


class RefreshJobs:
    """Runs refresh jobs on a background thread of this process; `on_success(views)` runs once per job that
    refreshed, with the views it refreshed. `build` is how refreshes build the stores: "sql" (the migrations'
    refresh functions) or "dbt" (DBT_ENABLED: the dbt models, data/dbt.py)."""

    def __init__(self, engine: Engine, on_success: Callable[[list[str]], object], *, build: str = "sql") -> None:
        self.engine = engine
        self.on_success = on_success
        self.build = build
        if build == "dbt":
            from data.dbt import require_dbt

            require_dbt()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refresh-job")

    def submit(self, views: Iterable[str], *, trigger: str, user_id: int | None = None) -> tuple[JobStatus, bool]:
        """Queue a refresh; returns (job, already_running). Raises RefreshError for an unknown view."""
        selected = resolve_views(views)
        running = active_job_for(self.engine, selected)
        if running is not None:
            return running, True
        job_id = uuid.uuid4().hex
        # The queued rows exist before this call returns, so a second request finds this job.
        run_ids = {view: record_queued(self.engine, view, trigger, user_id, job_id) for view in selected}
        self._executor.submit(self._run, selected, trigger, user_id, job_id, run_ids)
        status = job_status(self.engine, job_id)
        assert status is not None
        return status, False

    def run_now(self, views: Iterable[str], *, trigger: str, user_id: int | None = None) -> list[RefreshResult]:
        """Refresh synchronously (scheduler and CLI), then run `on_success` if anything refreshed."""
        results = refresh_views(self.engine, views, trigger=trigger, user_id=user_id, job_id=uuid.uuid4().hex,
                                build=self.build)
        self._after(results)
        return results

    def _run(self, views, trigger, user_id, job_id, run_ids) -> None:
        try:
            results = refresh_views(
                self.engine, views, trigger=trigger, user_id=user_id, job_id=job_id, run_ids=run_ids,
                build=self.build,
            )
            self._after(results)
        except Exception:
            log.exception("refresh job %s crashed", job_id)

    def _after(self, results: list[RefreshResult]) -> None:
        if any(r.status == "succeeded" for r in results):
            try:
                self.on_success([r.view for r in results if r.status == "succeeded"])
            except Exception:
                log.exception("could not announce a refresh (bump the data versions)")

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _summarise(job_id: str, rows: list[tuple]) -> JobStatus:
    statuses = [r[1] for r in rows]
    if "failed" in statuses and not {"queued", "running"} & set(statuses):
        status = "failed"
    elif "running" in statuses or ("queued" in statuses and {"succeeded", "failed", "skipped"} & set(statuses)):
        status = "running"
    elif "queued" in statuses:
        status = "queued"
    else:
        status = "succeeded"
    started = [r[2] for r in rows if r[2] is not None]
    done = all(s in ("succeeded", "failed", "skipped") for s in statuses)
    finished = max((r[3] for r in rows if r[3] is not None), default=None) if done else None
    started_at = min(started) if started else None
    duration = int((finished - started_at).total_seconds() * 1000) if finished and started_at else None
    errors = [f"{r[0]}: {r[5]}" for r in rows if r[1] == "failed" and r[5]]
    runs = [{"view": r[0], "status": r[1], "duration_ms": r[4], "error": r[5]} for r in rows]
    return JobStatus(job_id, status, [r[0] for r in rows], started_at, finished, duration,
                     "; ".join(errors) or None, rows[0][6], rows[0][7], runs)
