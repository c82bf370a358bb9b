"""Seed a scratch database at a given size, then time seeding, refreshes and view reads against raw computation.

    python bench/refresh.py --applications 1000000            # needs DATABASE_URL (any db on the server)
Prints a Markdown table for docs/PERFORMANCE.md. The scratch database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import date

import psycopg
from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url
from data.engine import get_engine, psycopg_connection
from data.filters import DataFilter, add_months, current_month
from data.migrations import migrate
from data.queries import DATASET_NAMES, fetch_dataset
from data.refresh import refresh_views
from data.seed import SeedConfig, seed


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_refresh_{uuid.uuid4().hex[:6]}"
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = get_engine(url)
    rows: list[tuple[str, str]] = []
    try:
        migrate(engine)
        started = time.perf_counter()
        report = seed(engine, SeedConfig(args.applications, args.facilities, args.months))
        rows.append(("seed (all tables, indexes, analyze)", f"{time.perf_counter() - started:.1f} s"))
        print(f"seeded: {report}", flush=True)
        for view in DATASET_NAMES:
            # Since migration 006 a refresh is a full recompute that writes only the rows that differ.
            with psycopg_connection(engine, autocommit=True) as conn:
                full = timed(lambda v=view: conn.execute(f"select analytics.refresh_{v}_kpis()"), args.repeat)
            rows.append((f"refresh {view}: full recompute, nothing changed (median)",
                         f"{statistics.median(full):.0f} ms"))
        for parallel in (False, True):
            durations = timed(lambda p=parallel: refresh_views(engine, ["all"], trigger="cli", parallel=p),
                              args.repeat)
            label = "in parallel (2 connections)" if parallel else "one after another"
            rows.append((f"refresh all four views {label}, recorded (median)",
                         f"{statistics.median(durations):.0f} ms"))
        end = current_month()
        one_facility = DataFilter((1,), add_months(end, -23), end)
        for source in ("materialized", "live"):
            def read(src=source):
                for dataset in DATASET_NAMES:
                    fetch_dataset(engine, dataset, one_facility, source=src)
            read()
            durations = timed(read, args.repeat * 4 if source == "materialized" else args.repeat)
            rows.append((f"1 facility x 24 months, 4 datasets into DataFrames, from the {source} views",
                         f"median {statistics.median(durations):.2f} ms, max {max(durations):.2f} ms"))
    finally:
        engine.dispose()
        if not args.keep:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute(f'drop database "{name}" with (force)')
    print(f"\n{args.applications:,} applications, {args.facilities} facilities, {args.months} months, "
          f"{os.cpu_count()} cores, {date.today()}\n")
    print("| what | figure |\n| --- | --- |")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
