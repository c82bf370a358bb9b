"""Server time of each page's callbacks at a given size, cold and warm cache, as a Markdown table.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/1 \\
        python -m bench.pages --applications 1000000      # or: python bench/pages.py ...

Seeds a scratch database on the DATABASE_URL server, builds the real app and POSTs `/_dash-update-component`
through the Flask test client as a signed-in viewer (an admin for the PII drill-down), so the time includes the
request guard, scope, cache, aggregation, figure building and JSON. Cold: the data generation is bumped before
each call (every cached view retired). Warm: the same call again. Give REDIS_URL a Redis database of its own:
the bench bumps its generation. The scratch database is dropped at the end unless --keep.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would shadow the `pages` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import cProfile
import os
import pstats
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import psycopg
from sqlalchemy.engine import make_url

from auth.context import services_of
from auth.users import create_user
from dashboard.app import create_app
from dashboard.settings import Settings, parse_database_url
from data.engine import dispose_all, get_engine, psycopg_connection
from data.filters import add_months, last_complete_month
from data.migrations import migrate
from data.queries import DATASET_NAMES
from data.refresh import refresh_views
from data.seed import SeedConfig, seed

PASSWORD = "bench horse battery staple"
# page -> (an output id of its main callback, its inputs beyond facility/start/end, role)
CALLBACKS: dict[str, tuple[str, dict[str, Any], str]] = {
    "overview": ("overview-kpis", {}, "viewer"),
    "pipeline": ("pipeline-funnel", {}, "viewer"),
    "compliance": ("compliance-by-facility", {}, "viewer"),
    "compliance (violations, PII)": ("compliance-violations", {}, "admin"),
    "revenue": ("revenue-by-month", {}, "viewer"),
    "outreach": ("outreach-rates", {"outreach-channel": None}, "viewer"),
}


class Caller:
    """A signed-in test client that POSTs one callback's inputs as the browser does."""

    def __init__(self, app: Any, email: str) -> None:
        self.app, self.client = app, app.server.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        answer = self.client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        if answer.status_code != 302:
            raise SystemExit(f"sign-in failed for {email}: {answer.status_code}")

    def get(self, path: str) -> bytes:
        answer = self.client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
        return answer.get_data()

    def call(self, output_id: str, inputs: dict[str, Any]) -> None:
        key = next(k for k in self.app.callback_map if f"{output_id}." in k)
        parts = [p.rsplit(".", 1) for p in key.strip(".").split("...")]
        outputs = [{"id": cid, "property": prop} for cid, prop in parts]
        # Every input the callback declares, in its order; ones not given (e.g. the admin switch) are empty.
        declared = self.app.callback_map[key]["inputs"]
        body = {
            "output": key,
            "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [{"id": d["id"], "property": d["property"], "value": inputs.get(d["id"])} for d in declared],
            "changedPropIds": [f"{next(iter(inputs))}.value"],
            "state": [],
        }
        # As Dash's renderer does: the CSRF token from the `_csrf_token` cookie in the X-CSRFToken header.
        answer = self.client.post("/_dash-update-component", json=body,
                                  headers={"X-CSRFToken": self.client.get_cookie("_csrf_token").value})
        if answer.status_code != 200:
            raise SystemExit(f"{output_id}: HTTP {answer.status_code}: {answer.get_data(as_text=True)[:300]}")


CPU: dict[int, list[float]] = {}  # id(list of wall times) -> CPU times of the same calls


def timings(fn: Callable[[], None], before: Callable[[], None], repeat: int, *, profile: bool = False
            ) -> list[float]:
    """Wall times (ms) of `repeat` calls of `fn`, each after `before`; their CPU times go to CPU[id(result)]."""
    out: list[float] = []
    cpu: list[float] = []
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU time: a busy machine skews less
    for _ in range(repeat):
        before()
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        fn()
        if profiler is not None:
            profiler.disable()
        out.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    CPU[id(out)] = cpu
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--database", help="use this existing, seeded and refreshed database instead of seeding one")
    parser.add_argument("--profile", metavar="PAGE",
                        help="also print a cProfile of PAGE's cold calls (PAGE-warm: its warm calls; api-DATASET)")
    parser.add_argument("--only", help="measure only these pages/API datasets (comma-separated names)")
    args = parser.parse_args()

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = args.database or f"bench_pages_{uuid.uuid4().hex[:6]}"
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    if not args.database:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        migrate(engine)
        if not args.database:
            started = time.perf_counter()
            seed(engine, SeedConfig(args.applications, args.facilities, args.months))
            refresh_views(engine, ["all"], trigger="cli")
            print(f"seeded and refreshed {args.applications:,} applications in {time.perf_counter() - started:.1f} s")
        settings = Settings(
            database_url=url,
            redis_url=os.environ.get("REDIS_URL"),
            secret_key=uuid.uuid4().hex,
            session_cookie_secure=False,
            scheduler_enabled=False,
            # Masked data follows every change: otherwise a version bump is not seen until the next release slot
            # and a "cold" call would read the masked views cached before it.
            masked_release_interval=0,
        )
        app = create_app(settings)
        service = services_of(app.server).analytics
        callers = {}
        for role in ("viewer", "admin"):
            email = f"bench-{role}-{uuid.uuid4().hex[:6]}@bench.example"
            create_user(engine, email, PASSWORD, role)
            callers[role] = Caller(app, email)
        end = last_complete_month()  # the pages' default window: the 12 months to the last complete month
        span = {"start": f"{add_months(end, -11):%Y-%m}", "end": f"{end:%Y-%m}"}
        with psycopg_connection(engine) as conn:
            facility_ids = [r[0] for r in conn.execute("select id from recruiting.facilities order by id")]
        picker = random.Random(7)
        rows = []
        only = set(args.only.split(",")) if args.only else None

        def cold_before() -> None:
            service.data_changed(dict.fromkeys(DATASET_NAMES))

        for page, (output_id, extra, role) in CALLBACKS.items():
            if only and page.split(" ")[0] not in only:
                continue
            prefix = output_id.split("-")[0]
            inputs = {f"{prefix}-facility": [], f"{prefix}-start": span["start"], f"{prefix}-end": span["end"], **extra}

            def call(caller: Caller = callers[role], oid: str = output_id, values: dict = inputs) -> None:
                caller.call(oid, values)

            cold = timings(call, cold_before, args.repeat, profile=args.profile == page)
            call()
            warm = timings(call, lambda: None, args.repeat, profile=args.profile == f"{page}-warm")
            subsets = iter([sorted(picker.sample(facility_ids, 3)) for _ in range(args.repeat)])

            def new_subset(caller: Caller = callers[role], oid: str = output_id, values: dict = inputs,
                           key: str = f"{prefix}-facility", picks: Any = subsets) -> None:
                caller.call(oid, {**values, key: next(picks)})

            fresh = timings(new_subset, lambda: None, args.repeat, profile=args.profile == f"{page}-new")
            rows.append((page, cold, warm, fresh))
        query = urlencode({"start": span["start"], "end": span["end"]})
        for dataset in (*DATASET_NAMES, "kpis"):
            if only and f"api-{dataset}" not in only and "api" not in only:
                continue

            def fetch(caller: Caller = callers["viewer"], path: str = f"/api/v1/analytics/{dataset}?{query}"
                      ) -> None:
                caller.get(path)

            cold = timings(fetch, cold_before, args.repeat, profile=args.profile == f"api-{dataset}")
            fetch()
            warm = timings(fetch, lambda: None, max(args.repeat, 20))
            rows.append((f"API /api/v1/analytics/{dataset}", cold, warm, None))
        load = os.getloadavg()
        print(f"\n{args.applications if not args.database else args.database} applications, {args.facilities} "
              f"facilities, {args.months} months; 12-month range, all facilities; {args.repeat} runs each; cache: "
              f"{'Redis' if settings.redis_url else 'in-process'}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, nproc "
              f"{os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
        print("CPU: this process's CPU time per call (the app's work; PostgreSQL and Redis not included), a "
              "figure that a busy machine inflates far less than the wall time.\n")
        print("New selection: 3 facilities nobody asked for before (the masked views cached, this selection's "
              "totals and figures not).\n")
        print("| page callback | cold median | cold p95 | cold CPU median | warm median | warm p95 | warm CPU median "
              "| new selection median | p95 | CPU median |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for page, cold, warm, fresh in rows:
            new = (f"{statistics.median(fresh):.0f} ms | {p95(fresh):.0f} ms | "
                   f"{statistics.median(CPU[id(fresh)]):.0f} ms" if fresh else "— | — | —")
            print(f"| {page} | {statistics.median(cold):.0f} ms | {p95(cold):.0f} ms | "
                  f"{statistics.median(CPU[id(cold)]):.0f} ms | {statistics.median(warm):.1f} ms | "
                  f"{p95(warm):.1f} ms | {statistics.median(CPU[id(warm)]):.1f} ms | {new} |")
    finally:
        dispose_all()
        if not args.keep and not args.database:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
