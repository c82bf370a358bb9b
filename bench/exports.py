"""Server time of exports at the default demo size: one chart as PNG and each page report as PDF, warm browser.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/1 \\
        python bench/exports.py      # 200,000 applications, 40 facilities, 24 months (`dashboard seed` defaults)

Seeds a scratch database on the DATABASE_URL server, builds the real app and GETs the export URLs through the
Flask test client as a signed-in viewer (scope, cache, figures, kaleido on Debian's Chromium, reportlab, audit).
The first export starts the browser (reported apart); the figures after it are warm. The scratch database is
dropped at the end unless --keep.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would shadow the `pages` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import re
import statistics
import time
import uuid

import psycopg
from sqlalchemy.engine import make_url

from auth.context import services_of
from auth.users import create_user
from dashboard.app import create_app
from dashboard.settings import Settings, parse_database_url
from data.engine import dispose_all, get_engine
from data.filters import add_months, current_month
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import SeedConfig, seed

PASSWORD = "bench horse battery staple"
TARGETS_MS = {"chart": 1500, "report": 6000}


def signed_in(app, email: str):
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    if client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code != 302:
        raise SystemExit(f"sign-in failed for {email}")
    return client


def timed(client, path: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=200_000)
    parser.add_argument("--facilities", type=int, default=40)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    server = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_exports_{uuid.uuid4().hex[:6]}"
    libpq = server.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        migrate(engine)
        started = time.perf_counter()
        seed(engine, SeedConfig(args.applications, args.facilities, args.months))
        refresh_views(engine, ["all"], trigger="cli")
        print(f"seeded and refreshed {args.applications:,} applications in {time.perf_counter() - started:.1f} s")
        settings = Settings(database_url=url, redis_url=os.environ.get("REDIS_URL"), secret_key=uuid.uuid4().hex,
                            session_cookie_secure=False, scheduler_enabled=False)
        app = create_app(settings)
        email = f"bench-viewer-{uuid.uuid4().hex[:6]}@bench.example"
        create_user(engine, email, PASSWORD, "viewer")
        client = signed_in(app, email)
        end = current_month()
        query = f"start={add_months(end, -11):%Y-%m}&end={end:%Y-%m}"
        first = timed(client, f"/export/chart/pipeline/by-month.png?{query}", 1)[0]
        renderer = services_of(app.server).exporter.renderer
        rows = [("first export (starts the browser), pipeline by-month PNG", [first], None)]
        rows.append(("chart PNG 1600x900 @2x: pipeline by-month",
                     timed(client, f"/export/chart/pipeline/by-month.png?{query}", args.repeat), "chart"))
        rows.append(("chart PNG 1600x900 @2x: compliance by-facility",
                     timed(client, f"/export/chart/compliance/by-facility.png?{query}", args.repeat), "chart"))
        rows.append(("chart SVG: outreach heatmap",
                     timed(client, f"/export/chart/outreach/heatmap.svg?{query}", args.repeat), "chart"))
        for page in ("overview", "pipeline", "compliance", "revenue", "outreach"):
            rows.append((f"report PDF: {page}", timed(client, f"/export/report/{page}.pdf?{query}", args.repeat),
                         "report"))
        print(f"\n{args.applications:,} applications, {args.facilities} facilities, {args.months} months; "
              f"12-month range, all facilities; browser {renderer.browser_path} ({renderer.tabs} tabs); "
              f"{args.repeat} runs each; {os.cpu_count()} cores\n")
        print("| export | median | max | target |")
        print("| --- | ---: | ---: | --- |")
        for label, values, kind in rows:
            target = "" if kind is None else f"< {TARGETS_MS[kind] / 1000:g} s: " + (
                "met" if statistics.median(values) < TARGETS_MS[kind] else "missed")
            print(f"| {label} | {statistics.median(values):.0f} ms | {max(values):.0f} ms | {target} |")
        renderer.close()
    finally:
        dispose_all()
        if not args.keep:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute(f'drop database if exists "{name}" with (force)')


if __name__ == "__main__":
    main()
