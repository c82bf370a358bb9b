"""Full refreshes of the KPI stores, once across all processes, recording every run.

Since migration 006 a refresh is a full recompute that writes only the rows that differ and consumes the view's queue
of captured changes (readers are never blocked); live refresh (data/live.py) applies changes in between.
With `build="dbt"` (DBT_ENABLED) the stores are built by the dbt project instead (data/dbt.py, sql/dbt): one dbt run
for the views this process could lock, recorded per view exactly like the SQL refresh, dbt's message as the error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.sqlfiles import read_sql

VIEWS: tuple[str, ...] = ("pipeline", "compliance", "revenue", "outreach")
TRIGGERS: tuple[str, ...] = ("schedule", "button", "api", "cli")
BUILDS: tuple[str, ...] = ("sql", "dbt")
# One advisory lock per view: any number of processes may try, one refreshes, the others record a skip.
REFRESH_LOCK_BASE = 7_316_100


class RefreshError(ValueError):
    """A refresh request names an unknown view or trigger."""


@dataclass(frozen=True)
class RefreshResult:
    view: str
    status: str  # succeeded | failed | skipped
    duration_ms: int | None
    error: str | None
    run_id: int


def resolve_views(names: Iterable[str]) -> list[str]:
    """Expand 'all' and validate view names, keeping the canonical order."""
    requested = set(names)
    unknown = requested - set(VIEWS) - {"all"}
    if unknown:
        raise RefreshError(f"unknown view(s): {', '.join(sorted(unknown))}; choose from {', '.join(VIEWS)} or all")
    if "all" in requested or not requested:
        return list(VIEWS)
    return [v for v in VIEWS if v in requested]


def refresh_views(
    engine: Engine,
    views: Iterable[str],
    *,
    trigger: str,
    user_id: int | None = None,
    job_id: str | None = None,
    statement_timeout_ms: int | None = None,
    parallel: bool = True,
    on_view_done: Callable[[RefreshResult], None] | None = None,
    run_ids: dict[str, int] | None = None,
    build: str = "sql",
) -> list[RefreshResult]:
    """Refresh each view and record it in app.refresh_runs; a failure leaves the previous data readable.

    `run_ids` are rows already queued for these views (data/jobs.py queues before returning to the caller).
    `build` is "sql" (the migrations' refresh functions) or "dbt" (the dbt models; needs the dbt extra).
    """
    if trigger not in TRIGGERS:
        raise RefreshError(f"unknown trigger {trigger!r}")
    if build not in BUILDS:
        raise RefreshError(f"unknown build {build!r}; choose from {', '.join(BUILDS)}")
    selected = resolve_views(views)
    if build == "dbt":
        from data.dbt import require_dbt

        require_dbt()  # before anything is queued: a missing extra is a configuration error, not a failed run
    if run_ids is None:
        run_ids = {view: record_queued(engine, view, trigger, user_id, job_id) for view in selected}
    if build == "dbt":
        return _refresh_with_dbt(engine, selected, run_ids, on_view_done)

    def work(view: str) -> RefreshResult:
        result = _refresh_one(engine, view, run_ids[view], statement_timeout_ms)
        if on_view_done is not None:
            on_view_done(result)
        return result

    if parallel and len(selected) > 1:
        # Two workers: the machine has two cores and each refresh already runs a parallel aggregate.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="refresh") as pool:
            return list(pool.map(work, selected))
    return [work(view) for view in selected]


def record_queued(engine: Engine, view: str, trigger: str, user_id: int | None, job_id: str | None) -> int:
    with psycopg_connection(engine, autocommit=True) as conn:
        row = conn.execute(
            "insert into app.refresh_runs (job_id, view, trigger, status, user_id, started_at)"
            " values (%s, %s, %s, 'queued', %s, now()) returning id",
            (job_id, view, trigger, user_id),
        ).fetchone()
    return int(row[0])


def _refresh_one(engine: Engine, view: str, run_id: int, statement_timeout_ms: int | None) -> RefreshResult:
    lock_key = REFRESH_LOCK_BASE + VIEWS.index(view)
    with psycopg_connection(engine, autocommit=True) as conn:
        got_lock = conn.execute("select pg_try_advisory_lock(%s)", (lock_key,)).fetchone()[0]
        if not got_lock:
            _finish(engine, run_id, "skipped", None, "another process is refreshing this view")
            return RefreshResult(view, "skipped", None, "another process is refreshing this view", run_id)
        try:
            if _refreshed_since_queued(conn, run_id):
                reason = "refreshed by another process since this run was queued"
                _finish(engine, run_id, "skipped", None, reason)
                return RefreshResult(view, "skipped", None, reason, run_id)
            conn.execute(
                "update app.refresh_runs set status = 'running', started_at = now() where id = %s", (run_id,)
            )
            started = time.perf_counter()
            try:
                with conn.transaction():
                    if statement_timeout_ms is not None:
                        conn.execute("select set_config('statement_timeout', %s, true)", (str(statement_timeout_ms),))
                    conn.execute(f"select analytics.refresh_{view}_kpis()")
            except psycopg.Error as exc:
                duration = int((time.perf_counter() - started) * 1000)
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                _finish(engine, run_id, "failed", duration, message)
                return RefreshResult(view, "failed", duration, message, run_id)
            duration = int((time.perf_counter() - started) * 1000)
            _finish(engine, run_id, "succeeded", duration, None)
            return RefreshResult(view, "succeeded", duration, None, run_id)
        finally:
            # A killed backend releases its session locks itself; only a live connection needs the unlock.
            if not conn.closed and not conn.broken:
                conn.execute("select pg_advisory_unlock(%s)", (lock_key,))


def _refresh_with_dbt(
    engine: Engine,
    views: list[str],
    run_ids: dict[str, int],
    on_view_done: Callable[[RefreshResult], None] | None,
) -> list[RefreshResult]:
    """Lock every view it can (the same advisory locks as the SQL refresh and live batches: a view another process
    is refreshing is skipped), build the locked views' models in one dbt run, and record each view's outcome.

    The locks are held on a connection of this process for the whole run; the models are told so (`kpi_lock_held`)
    and do not take them again on dbt's connections, which would wait for this one forever.
    """
    from data.dbt import DbtRun, run_dbt

    results: dict[str, RefreshResult] = {}

    def done(result: RefreshResult) -> None:
        results[result.view] = result
        if on_view_done is not None:
            on_view_done(result)

    with psycopg_connection(engine, autocommit=True) as conn:
        locked: list[str] = []
        try:
            for view in views:
                run_id = run_ids[view]
                if not conn.execute("select pg_try_advisory_lock(%s)", (REFRESH_LOCK_BASE + VIEWS.index(view),)
                                    ).fetchone()[0]:
                    reason = "another process is refreshing this view"
                    _finish(engine, run_id, "skipped", None, reason)
                    done(RefreshResult(view, "skipped", None, reason, run_id))
                    continue
                locked.append(view)
                if _refreshed_since_queued(conn, run_id):
                    reason = "refreshed by another process since this run was queued"
                    _finish(engine, run_id, "skipped", None, reason)
                    done(RefreshResult(view, "skipped", None, reason, run_id))
            building = [v for v in locked if v not in results]
            if building:
                conn.execute("update app.refresh_runs set status = 'running', started_at = now() where id = any(%s)",
                             ([run_ids[v] for v in building],))
                started = time.perf_counter()
                try:
                    run = run_dbt(
                        engine.url.render_as_string(hide_password=False),
                        ["run", "--select", *(f"{v}_kpis" for v in building), "--vars", "{kpi_lock_held: true}"],
                        quiet=True,
                    )
                except Exception as exc:  # no run at all (dbt's folder cannot be made, say): every view failed
                    run = DbtRun(2, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                duration = int((time.perf_counter() - started) * 1000)
                by_model = {n.name: n for n in run.nodes if n.resource_type == "model"}
                for view in building:
                    node = by_model.get(f"{view}_kpis")
                    if node is not None and node.status == "success":
                        _finish(engine, run_ids[view], "succeeded", duration, None)
                        done(RefreshResult(view, "succeeded", duration, None, run_ids[view]))
                    else:
                        error = (node.message if node is not None and node.message else None) or run.error or (
                            f"dbt did not build {view}_kpis")
                        _finish(engine, run_ids[view], "failed", duration, error)
                        done(RefreshResult(view, "failed", duration, error, run_ids[view]))
        finally:
            if not conn.closed and not conn.broken:
                for view in locked:
                    conn.execute("select pg_advisory_unlock(%s)", (REFRESH_LOCK_BASE + VIEWS.index(view),))
    return [results[v] for v in views]


def _finish(engine: Engine, run_id: int, status: str, duration_ms: int | None, error: str | None) -> None:
    """Record the outcome on a connection of its own, so a refresh whose connection died is still recorded."""
    with psycopg_connection(engine, autocommit=True) as conn:
        conn.execute(
            "update app.refresh_runs set status = %s, finished_at = now(), duration_ms = %s, error = %s,"
            " started_at = coalesce(started_at, now()) where id = %s",
            (status, duration_ms, error, run_id),
        )


def last_refreshed(engine: Engine) -> dict[str, datetime | None]:
    """When each view last refreshed successfully (None: never)."""
    with psycopg_connection(engine) as conn:
        rows = conn.execute(
            "select view, max(finished_at) from app.refresh_runs where status = 'succeeded' group by view"
        ).fetchall()
    found = dict(rows)
    return {view: found.get(view) for view in VIEWS}


def _refreshed_since_queued(conn: psycopg.Connection, run_id: int) -> bool:
    """A run queued at T is satisfied by any refresh of its view that finished after T (another scheduler's, say)."""
    return bool(conn.execute(read_sql("queries/refreshed_since_queued.sql"), (run_id,)).fetchone()[0])
