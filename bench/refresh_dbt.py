"""A full refresh of the four KPI stores by dbt (DBT_ENABLED) against the SQL refresh, on a scratch database.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/refresh_dbt.py --applications 1000000

Needs the dbt extra (pip install -e '.[dbt]'). Both refreshes go through data.refresh.refresh_views (recorded in
app.refresh_runs, locks taken), in two cases: nothing changed since the last refresh, and every store emptied first
(every row written). The dbt figure includes dbt's start-up and parsing in this process; the per-model times are
dbt's own. Prints a Markdown table for docs/PERFORMANCE.md; the scratch database is dropped unless --keep.
(Not named dbt_*.py: dbt imports every top-level module of that name it finds, and a script's folder is on the path.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import date

import psycopg
from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url
from data.dbt import require_dbt, run_dbt
from data.engine import get_engine, psycopg_connection
from data.migrations import migrate
from data.refresh import VIEWS, refresh_views
from data.seed import SeedConfig, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    require_dbt()
    os.environ.setdefault("DASHBOARD_DBT_DIR", tempfile.mkdtemp(prefix="bench-dbt-"))

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_dbt_{uuid.uuid4().hex[:6]}"
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = get_engine(url)
    rows: list[tuple[str, str, str]] = []

    def empty_stores() -> None:
        with psycopg_connection(engine) as conn:
            for view in VIEWS:
                conn.execute(f"delete from analytics.{view}_kpis_materialized")

    def refresh(build: str) -> float:
        started = time.perf_counter()
        results = refresh_views(engine, ["all"], trigger="cli", build=build)
        elapsed = (time.perf_counter() - started) * 1000
        failed = [r for r in results if r.status != "succeeded"]
        if failed:
            raise SystemExit(f"{build} refresh failed: {failed}")
        return elapsed

    try:
        migrate(engine)
        seed(engine, SeedConfig(args.applications, args.facilities, args.months))
        refresh("sql")
        run_dbt(url, ["parse"], quiet=True)  # dbt's first parse in this process (imports, manifest) out of the way
        for case, prepare in (("nothing changed", lambda: None), ("stores emptied first", empty_stores)):
            figures = {}
            for build in ("sql", "dbt"):
                durations = []
                for _ in range(args.repeat):
                    prepare()
                    durations.append(refresh(build))
                figures[build] = statistics.median(durations)
            rows.append((f"refresh all four views, {case} (median of {args.repeat})",
                         f"{figures['sql']:.0f} ms", f"{figures['dbt']:.0f} ms"))
        run = run_dbt(url, ["run"], quiet=True)
        for node in run.nodes:
            rows.append((f"dbt model {node.name}: its own time in `dbt run`", "", f"{node.seconds * 1000:.0f} ms"))
    finally:
        engine.dispose()
        if not args.keep:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute(f'drop database "{name}" with (force)')
    print(f"\n{args.applications:,} applications, {args.facilities} facilities, {args.months} months, "
          f"{os.cpu_count()} cores, {date.today()}\n")
    print("| what | SQL refresh | dbt |\n| --- | ---: | ---: |")
    for what, sql, dbt in rows:
        print(f"| {what} | {sql} | {dbt} |")


if __name__ == "__main__":
    main()
