"""Live refresh at a given size: batch cost by changed rows, capture's write overhead, change-to-API freshness.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/9 \\
        python bench/live.py --applications 1000000                # seeds a scratch database (dropped at the end)
    ... python bench/live.py --database bench1m                    # or an existing seeded, refreshed database

1. Batches: for 1, 100 and 10,000 changed rows (single-row statements, as an operational system writes them,
   spread over random facilities and months: 40% applications, 30% outreach, 20% compliance checks, 10% invoices),
   the wall time of one batch of all four views (`data.live.apply_changes`) after inserting them, after updating
   them (moving facility, month and channel, setting hired_at, failing checks, changing amounts) and after deleting
   them. The bench's own rows are deleted again, so an existing database ends as it began. The queues and stores
   are vacuumed before each size, as the listener's sweep does every minute (dead rows of earlier runs would
   otherwise pile up where autovacuum is off).
2. Write overhead of capture: single-row autocommit inserts into recruiting.applications (alternating blocks of
   20 with the capture triggers enabled and disabled), and one 100,000-row INSERT ... SELECT (rolled back) with
   them enabled and disabled.
3. Freshness: a writer commits 20 new applications a second into a facility of its own while the listener
   (data/listener.py, debounce LIVE_REFRESH_DEBOUNCE_MS, default 1000) applies them and bumps the data generation as
   `dashboard scheduler` does; a reader polls GET /api/v1/analytics/pipeline (admin token, unmasked) every 100 ms
   through the real app. Freshness of a change = when the API first counts it - when it was committed.
Prints Markdown rows for docs/PERFORMANCE.md, and checks at the end that every store equals a full recompute.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would shadow the `pages` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from auth.context import services_of
from auth.tokens import create_token
from auth.users import create_user
from dashboard.app import create_app
from dashboard.settings import Settings, parse_database_url
from data.engine import dispose_all, get_engine, psycopg_connection
from data.filters import current_month
from data.listener import LiveRefresher
from data.live import apply_changes, differences, vacuum_live_tables
from data.migrations import migrate
from data.queries import DATASET_NAMES
from data.refresh import VIEWS, refresh_views
from data.seed import SeedConfig, seed

APP_CHANNELS = ("email", "sms", "phone", "job_board", "referral", "direct")
OUTREACH_CHANNELS = ("email", "sms", "phone", "job_board", "referral")
MIX = (("applications", 0.4), ("outreach", 0.3), ("compliance_checks", 0.2), ("invoices", 0.1))
CAPTURE_TRIGGERS = ("capture_insert", "capture_update", "capture_delete")
WRITE_BLOCK, WRITE_WARMUP = 20, 2  # single-row inserts per alternating block, and those not counted after a toggle


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Changes:
    """Random single-row changes over the seeded facilities and months; remembers its rows to update and delete."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.engine, self.rng = engine, rng
        with psycopg_connection(engine) as conn:
            self.facilities = [r[0] for r in conn.execute("select id from recruiting.facilities").fetchall()]
            self.placements = [r[0] for r in conn.execute(
                "select id from recruiting.placements order by random() limit 1000").fetchall()]
            first, last = conn.execute(
                "select min(applied_at), max(applied_at) from recruiting.applications").fetchone()
        self.first, self.span = first, (last - first).total_seconds()
        self.rows: list[tuple[str, int]] = []

    def instant(self) -> datetime:
        return self.first + timedelta(seconds=self.rng.uniform(0, self.span))

    def insert(self, count: int) -> None:
        tables = [t for t, _ in MIX] if count > 1 else ["applications"]
        weights = [w for _, w in MIX] if count > 1 else [1.0]
        r, f = self.rng, self.rng.choice
        with psycopg_connection(self.engine) as conn, conn.cursor() as cur:
            for table in r.choices(tables, weights, k=count):
                if table == "applications":
                    cur.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                                " values (%s, %s, %s) returning id", (f(self.facilities), f(APP_CHANNELS),
                                                                      self.instant()))
                elif table == "outreach":
                    cur.execute("insert into recruiting.outreach (facility_id, channel, sent_at)"
                                " values (%s, %s, %s) returning id", (f(self.facilities), f(OUTREACH_CHANNELS),
                                                                      self.instant()))
                elif table == "compliance_checks":
                    cur.execute("insert into recruiting.compliance_checks (facility_id, passed, score, checked_at)"
                                " values (%s, true, %s, %s) returning id",
                                (f(self.facilities), Decimal(r.randint(6000, 10000)) / 100, self.instant()))
                else:
                    cur.execute("insert into recruiting.invoices (placement_id, facility_id, amount, invoiced_at)"
                                " values (%s, %s, %s, %s) returning id",
                                (f(self.placements) if self.placements else None, f(self.facilities),
                                 Decimal(r.randint(10_000, 900_000)) / 100, self.instant()))
                self.rows.append((table, cur.fetchone()[0]))

    def update(self) -> None:
        """Move every row to another facility and month (and channel), and change what the KPIs count."""
        f = self.rng.choice
        with psycopg_connection(self.engine) as conn:
            for table, row_id in self.rows:
                if table == "applications":
                    moved = self.instant()
                    conn.execute("update recruiting.applications set facility_id = %s, applied_at = %s,"
                                 " hired_at = %s::timestamptz + interval '12 days' where id = %s",
                                 (f(self.facilities), moved, moved, row_id))
                elif table == "outreach":
                    conn.execute("update recruiting.outreach set facility_id = %s, sent_at = %s, channel = %s,"
                                 " responded_at = sent_at where id = %s",
                                 (f(self.facilities), self.instant(), f(OUTREACH_CHANNELS), row_id))
                elif table == "compliance_checks":
                    conn.execute("update recruiting.compliance_checks set facility_id = %s, checked_at = %s,"
                                 " passed = false, severity = 'high' where id = %s",
                                 (f(self.facilities), self.instant(), row_id))
                else:
                    conn.execute("update recruiting.invoices set facility_id = %s, invoiced_at = %s,"
                                 " amount = amount + 1 where id = %s", (f(self.facilities), self.instant(), row_id))

    def delete(self) -> None:
        with psycopg_connection(self.engine) as conn:
            for table, row_id in self.rows:
                conn.execute(f"delete from recruiting.{table} where id = %s", (row_id,))
        self.rows = []


def timed_batch(engine: Engine) -> float:
    """Wall time (ms) of one batch of every view."""
    started = time.perf_counter()
    apply_changes(engine)
    return (time.perf_counter() - started) * 1000


def bench_batches(engine: Engine, sizes: list[int], repeat: int, rng: random.Random) -> list[tuple[str, str]]:
    rows = []
    changes = Changes(engine, rng)
    for size in sizes:
        # As the listener's sweep does every minute: the dead rows of earlier rounds go. VACUUM updates the
        # tables' statistics, so each pooled connection then plans the batch statements again: warm them up.
        vacuum_live_tables(engine)
        for _ in range(3):
            changes.insert(100)
            changes.update()
            changes.delete()
            apply_changes(engine)
        phases: dict[str, list[float]] = {"insert": [], "update": [], "delete": []}
        for _ in range(repeat if size < 10_000 else max(1, repeat // 2)):
            changes.insert(size)
            phases["insert"].append(timed_batch(engine))
            changes.update()
            phases["update"].append(timed_batch(engine))
            changes.delete()
            phases["delete"].append(timed_batch(engine))
        figures = " / ".join(f"{statistics.median(v):.1f}" for v in phases.values())
        rows.append((f"one batch after {size:,} changed rows: inserted / updated (moved) / deleted, median ms",
                     figures))
        print(rows[-1], flush=True)
    return rows


def set_capture(conn: psycopg.Connection, enabled: bool) -> None:
    for trigger in CAPTURE_TRIGGERS:
        conn.execute(f"alter table recruiting.applications {'enable' if enabled else 'disable'} trigger {trigger}")


def bench_write_overhead(engine: Engine, single: int, rng: random.Random) -> list[tuple[str, str]]:
    facilities = Changes(engine, rng).facilities
    per_insert: dict[bool, list[float]] = {True: [], False: []}
    with psycopg_connection(engine, autocommit=True) as conn:
        # Short alternating blocks, so that a shared machine's drift hits both alike. Toggling a trigger is DDL:
        # the next insert rebuilds the table's cached description, so the first inserts of a block are not counted.
        ids: dict[bool, list[int]] = {True: [], False: []}
        for block in range(2 * max(1, single // WRITE_BLOCK)):
            enabled = block % 2 == 0
            set_capture(conn, enabled)
            for n in range(WRITE_BLOCK + WRITE_WARMUP):
                started = time.perf_counter()
                row = conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                                   " values (%s, 'sms', now()) returning id", (rng.choice(facilities),)).fetchone()
                ids[enabled].append(row[0])
                if n >= WRITE_WARMUP:
                    per_insert[enabled].append((time.perf_counter() - started) * 1e6)
        for enabled, added in ids.items():  # deleted as they were inserted: captured, or not
            set_capture(conn, enabled)
            conn.execute("delete from recruiting.applications where id = any(%s)", (added,))
        set_capture(conn, True)
        bulk: dict[bool, list[float]] = {True: [], False: []}
        for attempt in range(6):
            enabled = attempt % 2 == 0
            with conn.transaction(force_rollback=True):
                set_capture(conn, enabled)
                started = time.perf_counter()
                conn.execute("insert into recruiting.applications (facility_id, channel, applied_at, hired_at)"
                             " select 1 + g %% %s, 'email', now() - g * interval '1 minute',"
                             " case when g %% 4 = 0 then now() end from generate_series(1, 100000) g",
                             (len(facilities),))
                bulk[enabled].append((time.perf_counter() - started) * 1000)
    apply_changes(engine)
    on, off = statistics.median(per_insert[True]), statistics.median(per_insert[False])
    bulk_on, bulk_off = statistics.median(bulk[True]), statistics.median(bulk[False])
    return [
        ("single-row insert (autocommit), capture on / off, median", f"{on:.0f} / {off:.0f} µs: +{on / off - 1:.0%}"),
        ("100,000-row INSERT ... SELECT, capture on / off, median",
         f"{bulk_on:.0f} / {bulk_off:.0f} ms: +{bulk_on / bulk_off - 1:.0%}"),
    ]


def bench_freshness(engine: Engine, url: str, seconds: float, rate: float, debounce_ms: int) -> list[tuple[str, str]]:
    with psycopg_connection(engine) as conn:
        facility = conn.execute("insert into recruiting.facilities (name) values (%s) returning id",
                                (f"bench live {uuid.uuid4().hex[:6]}",)).fetchone()[0]
    settings = Settings(database_url=url, redis_url=os.environ.get("REDIS_URL"), secret_key=uuid.uuid4().hex,
                        session_cookie_secure=False, scheduler_enabled=False)
    app = create_app(settings)
    service = services_of(app.server).analytics
    service.data_changed(dict.fromkeys(DATASET_NAMES))  # a facility the cached facility list does not know yet
    admin = create_user(engine, f"bench-live-{uuid.uuid4().hex[:6]}@bench.example", "bench horse battery", "admin")
    client, token = app.server.test_client(), create_token(engine, admin)
    month = f"{current_month():%Y-%m}"
    path = f"/api/v1/analytics/pipeline?facility_id={facility}&start={month}&end={month}&unmasked=1"
    committed: list[float] = []
    seen: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        with psycopg_connection(engine, autocommit=True) as conn:
            next_at = time.monotonic()
            while not stop.is_set():
                conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                             " values (%s, 'sms', now())", (facility,))
                committed.append(time.monotonic())
                next_at += 1 / rate
                time.sleep(max(0.0, next_at - time.monotonic()))

    def count() -> int:
        answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        rows = answer.get_json()["rows"]
        return rows[0]["applications"] if rows else 0

    refresher = LiveRefresher(engine, lambda batch: service.data_changed(batch.changed_facilities),
                              debounce_ms=debounce_ms)
    refresher.start()
    refresher.ready.wait(30)
    thread = threading.Thread(target=writer)
    thread.start()
    ends = time.monotonic() + seconds
    try:
        while time.monotonic() < ends or len(seen) < len(committed):
            visible = count()
            now = time.monotonic()
            seen.extend([now] * (visible - len(seen)))
            if time.monotonic() >= ends:
                stop.set()
            time.sleep(0.1)
            if time.monotonic() > ends + 60:
                raise SystemExit("changes did not reach the API within a minute of the writer stopping")
    finally:
        stop.set()
        thread.join()
        refresher.stop()
    ages = [s - c for s, c in zip(seen, committed, strict=False)]
    return [(f"change-to-API freshness, writer at {rate:g} changes/s for {seconds:g} s, debounce {debounce_ms} ms "
             f"({len(ages)} changes): p50 / p95 / max",
             f"{statistics.median(ages):.2f} / {p95(ages):.2f} / {max(ages):.2f} s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--sizes", default="1,100,10000", help="changed rows per batch, comma-separated")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--single-inserts", type=int, default=500)
    parser.add_argument("--freshness-seconds", type=float, default=30)
    parser.add_argument("--writer-rate", type=float, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--database", help="use this existing seeded and refreshed database instead of seeding one")
    args = parser.parse_args()

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = args.database or f"bench_live_{uuid.uuid4().hex[:6]}"
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    if not args.database:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    rng = random.Random(13)
    rows: list[tuple[str, str]] = []
    try:
        engine = get_engine(url)
        migrate(engine)
        if not args.database:
            started = time.perf_counter()
            seed(engine, SeedConfig(args.applications, args.facilities, args.months))
            refresh_views(engine, ["all"], trigger="cli")
            print(f"seeded and refreshed {args.applications:,} applications in {time.perf_counter() - started:.1f} s",
                  flush=True)
        with psycopg_connection(engine) as conn:
            size = conn.execute("select count(*) from recruiting.applications").fetchone()[0]
        rows += bench_batches(engine, [int(s) for s in args.sizes.split(",")], args.repeat, rng)
        rows += bench_write_overhead(engine, args.single_inserts, rng)
        print(rows[-2:], flush=True)
        if args.freshness_seconds > 0:
            debounce = int(os.environ.get("LIVE_REFRESH_DEBOUNCE_MS", "1000"))
            rows += bench_freshness(engine, url, args.freshness_seconds, args.writer_rate, debounce)
        apply_changes(engine)
        mismatched = {view: n for view, n in differences(engine).items() if n}
        if mismatched:
            raise SystemExit(f"stores differ from a full recompute: {mismatched}")
        print(f"\n{size:,} applications, {args.facilities} facilities, {args.months} months, {os.cpu_count()} cores, "
              f"{datetime.now(UTC):%Y-%m-%d}; every store equals a full recompute at the end ({', '.join(VIEWS)})\n")
        print("| what | figure |\n| --- | --- |")
        for what, figure in rows:
            print(f"| {what} | {figure} |")
    finally:
        dispose_all()
        if not args.keep and not args.database:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
