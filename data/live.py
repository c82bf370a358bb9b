"""Live refresh, the data side: apply captured changes to the KPI stores in batches; report how fresh each view is.

Capture and the merge are SQL (migration 006). Triggers on the event tables queue the signed change of every grain
key a statement touched and NOTIFY `CHANNEL` with the view's name; a batch of one view is one call of
`analytics.apply_changes(view)`, a transaction that consumes that view's queue and adds it to the store. It takes the
view's advisory lock (the one full refreshes take), so each change is applied exactly once whatever the number of
processes; a view whose lock is held answers 'busy' and is simply tried again later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.refresh import VIEWS, resolve_views
from data.sqlfiles import read_sql

CHANNEL = "recruit_analytics_changes"
# Batch statuses: applied (changes consumed), empty, busy (lock held elsewhere), full (the view was recomputed: a
# TRUNCATE was queued or the store was out of step with its queue), failed (the transaction rolled back).
STATUSES = ("applied", "empty", "busy", "full", "failed")


@dataclass(frozen=True)
class BatchResult:
    """One view's batch: queue rows consumed, store rows written or deleted, and which facilities they belong to."""

    view: str
    status: str
    changes: int = 0
    groups: int = 0
    duration_ms: float | None = None
    facility_ids: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class ViewFreshness:
    """How current one view's store is (for /api/v1/analytics/health and the admin page)."""

    view: str
    as_of: datetime | None  # the store holds every change captured up to this time (None: never refreshed)
    lag_seconds: float  # age of the oldest change not applied yet; 0 when nothing waits
    queue_depth: int  # queued changes (one per statement and grain key) not applied yet
    last_batch_at: datetime | None
    last_batch_kind: str | None  # incremental | full
    last_batch_changes: int | None
    last_batch_groups: int | None
    last_batch_ms: float | None


def apply_changes(engine: Engine, views: Iterable[str] = VIEWS) -> list[BatchResult]:
    """One batch per view, each its own transaction: a failure leaves that view's store and queue as they were."""
    results = []
    with psycopg_connection(engine, autocommit=True) as conn:
        for view in resolve_views(views):
            try:
                row = conn.execute(
                    "select status, changes, groups, duration_ms, facility_ids from analytics.apply_changes(%s)",
                    (view,),
                ).fetchone()
            except psycopg.Error as exc:
                results.append(BatchResult(view, "failed", error=_first_line(exc)))
                continue
            status, changes, groups, duration_ms, facility_ids = row
            results.append(BatchResult(view, status, changes or 0, groups or 0, duration_ms,
                                       tuple(facility_ids or ())))
    return results


def freshness(engine: Engine) -> dict[str, ViewFreshness]:
    """Per view: as of, lag, queue depth and the latest batch (incremental or full)."""
    with psycopg_connection(engine) as conn:
        rows = conn.execute(read_sql("queries/live_status.sql")).fetchall()
    found = {row[0]: ViewFreshness(*row[:2], float(row[3]), int(row[2]), *row[4:]) for row in rows}
    return {view: found[view] for view in VIEWS}


def data_as_of(engine: Engine) -> dict[str, datetime | None]:
    """When each view's data is from: its store holds every change captured up to then (None: never refreshed)."""
    with psycopg_connection(engine) as conn:
        rows = conn.execute(read_sql("queries/live_as_of.sql"), {"views": list(VIEWS)}).fetchall()
    return dict(rows)


def differences(engine: Engine) -> dict[str, int]:
    """Per view, the rows in which its store differs from its live view: all 0 means each store equals a full
    recompute, row for row. Reads every event table: for verification, not for a hot path."""
    with psycopg_connection(engine) as conn:
        return dict(conn.execute(read_sql("queries/live_differences.sql")).fetchall())


def prune_batches(engine: Engine, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget old batch records (one a second per view adds up), keeping each view's newest; returns how many."""
    with psycopg_connection(engine) as conn:
        return conn.execute(read_sql("queries/live_prune.sql"), {"older_than": older_than}).rowcount


def vacuum_live_tables(engine: Engine) -> None:
    """VACUUM the change queues and the KPI stores. Each batch deletes the queue rows it applied and rewrites the
    store rows they change; autovacuum clears the dead rows where it runs, but where it is off (this project's CI
    PostgreSQL has it off) they pile up: every batch's delete scans all of its queue's (a day at 20 changes a second
    is 1.7M rows), and every whole-view read all of its store's. The eight tables are small: a few milliseconds,
    50 ms after a full refresh at 1M applications, and no writer is blocked (a table busy elsewhere is skipped)."""
    with psycopg_connection(engine, autocommit=True) as conn:
        conn.execute(read_sql("queries/live_vacuum.sql"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
