"""What an idle open page costs the server: `GET /api/v1/live` (an open page asks it every 5 s), per request.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/<a migrated database> REDIS_URL=redis://127.0.0.1:6379/1 \\
        python -m bench.poll --requests 2000

Builds the real app and sends the request through the Flask test client as a signed-in viewer, so the time is the
server's own work (guard, session check, two Redis reads per view, JSON), without network. Prints the mean and p95
time and what 1,000 open pages (200 requests/s) would take of one core.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import os
import statistics
import time
import uuid

from auth.context import services_of
from auth.users import create_user
from dashboard.app import create_app
from dashboard.settings import Settings, parse_database_url

POLL_SECONDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings(database_url=parse_database_url(os.environ["DATABASE_URL"]),
                        redis_url=os.environ.get("REDIS_URL"), secret_key="bench-" + "x" * 40,
                        session_cookie_secure=False, scheduler_enabled=False)
    app = create_app(settings)
    engine = services_of(app.server).engine
    email = f"bench-poll-{uuid.uuid4().hex[:8]}@bench.example"
    create_user(engine, email, "bench horse battery", "viewer")
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"email": email, "password": "bench horse battery",
                                       "csrf_token": token}).status_code == 302
    for _ in range(50):
        client.get("/api/v1/live")
    times = []
    cpu_start = time.process_time()
    for _ in range(args.requests):
        started = time.perf_counter()
        assert client.get("/api/v1/live").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_start) * 1000 / args.requests
    p95 = statistics.quantiles(times, n=20)[-1]
    per_second = 1000 / POLL_SECONDS
    print(f"| GET /api/v1/live | mean {statistics.mean(times):.2f} ms | p95 {p95:.2f} ms | "
          f"CPU {cpu_ms:.2f} ms/request | 1,000 open pages: {per_second:.0f} requests/s, "
          f"{per_second * cpu_ms / 1000:.2f} of a core |")


if __name__ == "__main__":
    main()
