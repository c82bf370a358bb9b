"""Faults survived (issue 12, items 11 and 12): Redis stopped mid-session, database connections killed, the
database refusing connections, a refresh killed half-way. No 500, no lost or wrong data, recovery without a restart.

A second Redis is started on a free port for the Redis faults (the shared one is never stopped); database faults use
a database of the test's own.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import redis

from auth.context import services_of
from auth.users import create_user
from dashboard.extensions import REDIS_HEALTH_KEY, build_analytics
from dashboard.health import API_UNAVAILABLE, SIGN_IN_UNAVAILABLE, UNAVAILABLE_MESSAGE
from data.cache import FallbackVersions, RedisHealth, RedisVersions
from data.engine import get_engine, psycopg_connection
from data.jobs import RefreshJobs, job_status
from data.refresh import refresh_views
from data.seed import SeedConfig, seed
from tests.conftest import SEED_NOW, require_service

PASSWORD = "correct horse battery"
SMALL = SeedConfig(applications=400, facilities=3, months=6, seed=11, now=SEED_NOW)
RANGE = "start=2026-01&end=2026-06"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SecondRedis:
    """A throw-away redis-server on its own port: no persistence, so a restart comes back empty."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping()
                return
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        raise AssertionError("the second redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def second_redis() -> Iterator[SecondRedis]:
    if shutil.which("redis-server") is None:
        require_service("redis-server is not installed (apt-get install redis-server)")
    server = SecondRedis()
    server.start()
    yield server
    server.stop()


@dataclass
class Faulty:
    """A small seeded database of the test's own behind the session app, with its analytics service on `redis_url`
    (None: in-process) exactly as the factory builds it."""

    url: str
    engine: Any
    email: str
    health: RedisHealth | None

    def block_connections(self) -> None:
        """The database refuses new connections and loses the ones it has: an outage, as the app sees it."""
        name = self.engine.url.database
        with psycopg.connect(_maintenance(self.url), autocommit=True) as conn:
            conn.execute(f'alter database "{name}" allow_connections false')
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                         "and pid <> pg_backend_pid()", (name,))

    def allow_connections(self) -> None:
        with psycopg.connect(_maintenance(self.url), autocommit=True) as conn:
            conn.execute(f'alter database "{self.engine.url.database}" allow_connections true')

    def kill_connections(self) -> int:
        with psycopg.connect(_maintenance(self.url), autocommit=True) as conn:
            return conn.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = %s "
                                "and pid <> pg_backend_pid()", (self.engine.url.database,)).fetchone()[0]


def _maintenance(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)


@pytest.fixture
def make_faulty(app, make_database: Callable[[], str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable]:
    made: list[Faulty] = []

    def factory(redis_url: str | None) -> Faulty:
        url = make_database()
        engine = get_engine(url)
        seed(engine, SMALL)
        refresh_views(engine, ["all"], trigger="cli")
        email = f"admin-{uuid.uuid4().hex[:8]}@faults.example"
        create_user(engine, email, PASSWORD, "admin")
        bound = services_of(app.server)
        settings = bound.settings.with_overrides(database_url=url, redis_url=redis_url)
        analytics, health = build_analytics(settings, engine)
        if health is not None:
            health.retry_seconds = 0.2
        jobs = RefreshJobs(engine, on_success=lambda views: analytics.data_changed(dict.fromkeys(views)))
        for name, value in (("settings", settings), ("engine", engine), ("analytics", analytics), ("jobs", jobs)):
            monkeypatch.setattr(bound, name, value)
        monkeypatch.setitem(app.server.extensions, REDIS_HEALTH_KEY, health)
        faulty = Faulty(url, engine, email, health)
        made.append(faulty)
        return faulty

    yield factory
    for faulty in made:
        faulty.allow_connections()


def sign_in(client, auth, email: str) -> None:
    response = auth.login(email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def kpis(client) -> dict[str, Any]:
    response = client.get(f"/api/v1/analytics/kpis?{RANGE}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def rows(client, dataset: str = "pipeline") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/analytics/{dataset}?{RANGE}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()["rows"]


# --- Redis ---------------------------------------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_stopped_mid_session_falls_back_with_one_warning_and_comes_back(
        make_faulty, second_redis, client, auth, caplog):
    faulty = make_faulty(second_redis.url)
    sign_in(client, auth, faulty.email)
    before = rows(client)
    versions_before = faulty_versions(client)
    second_redis.stop()
    with caplog.at_level(logging.WARNING, logger="data.cache"):
        for _ in range(3):
            assert rows(client) == before
            assert kpis(client)["rows"]
        assert client.get("/health").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.get_json()["redis"].startswith("unreachable")
    warnings = [r for r in caplog.records if "not answering" in r.getMessage()]
    assert len(warnings) == 1 and second_redis.url.split("//")[1].split("/")[0] in warnings[0].getMessage()
    assert not faulty.health.up

    # A refresh while Redis is away: this process sees it at once, from its own versions.
    services_of(client.application).analytics.data_changed({"pipeline": None})
    during = faulty_versions(client)
    assert during["pipeline"] > versions_before["pipeline"]

    second_redis.start()  # comes back empty (no persistence)
    time.sleep(0.3)
    with caplog.at_level(logging.WARNING, logger="data.cache"):
        assert rows(client) == before
    assert faulty.health.up
    assert any("answers again" in r.getMessage() for r in caplog.records)
    after = faulty_versions(client)
    assert all(after[v] >= during[v] for v in after)  # never backwards, though Redis came back empty
    shared = RedisVersions(second_redis.url, services_of(client.application).analytics.cache.namespace)
    assert shared.current(["pipeline"])[0] >= during["pipeline"]  # lifted: other processes move on too
    assert client.get("/health/ready").status_code == 200


def faulty_versions(client) -> dict[str, int]:
    response = client.get("/api/v1/live?unmasked=1")
    assert response.status_code == 200
    return response.get_json()["versions"]


@pytest.mark.redis
def test_data_versions_never_go_backwards_when_redis_loses_them(second_redis):
    health = RedisHealth(second_redis.url, retry_seconds=0.1)
    versions = FallbackVersions(RedisVersions(second_redis.url, f"ns-{uuid.uuid4().hex[:6]}"), health)
    for _ in range(3):
        versions.bump("pipeline", [1])
    assert versions.current(["pipeline"]) == [3]
    redis.Redis.from_url(second_redis.url).flushall()  # lost without any failed call in between
    assert versions.current(["pipeline"])[0] >= 4
    second_redis.stop()
    seen = versions.current(["pipeline"])[0]
    assert versions.bump("pipeline", [2]) == seen + 1  # locally, while Redis is away
    assert versions.changed("pipeline", seen, seen + 1) == {2}
    second_redis.start()
    time.sleep(0.15)
    assert versions.current(["pipeline"])[0] >= seen + 2  # lifted above what was served, and marked changed
    assert versions.changed("pipeline", seen + 1, versions.current(["pipeline"])[0]) is None  # rebuild all
    released = versions.released("pipeline", 1)
    assert released >= seen + 1


# --- the database --------------------------------------------------------------------------------------------------


def test_killed_database_connections_are_replaced_without_an_error(make_faulty, client, auth):
    faulty = make_faulty(None)
    sign_in(client, auth, faulty.email)
    before = rows(client, "revenue")
    assert faulty.kill_connections() >= 1
    assert rows(client, "revenue") == before
    assert client.get("/api/v1/analytics/health").get_json()["database"] == "ok"
    assert faulty.kill_connections() >= 1
    assert client.get("/health/ready").status_code == 200


def test_a_database_outage_is_503_and_data_temporarily_unavailable_then_recovers(make_faulty, client, auth, app):
    faulty = make_faulty(None)
    sign_in(client, auth, faulty.email)
    before = kpis(client)
    faulty.block_connections()

    api = client.get(f"/api/v1/analytics/kpis?{RANGE}")
    assert api.status_code == 503 and api.get_json() == {"error": API_UNAVAILABLE}
    assert int(api.headers["Retry-After"]) > 0 and api.headers["X-Request-ID"]

    page = client.get("/pipeline")
    assert page.status_code == 503 and "Data temporarily unavailable" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]

    from tests.pages.conftest import DashCaller, filters

    answer = DashCaller(app, client).response("pipeline-status", filters("pipeline"))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert UNAVAILABLE_MESSAGE in answer.get_data(as_text=True)
    assert set(answer.get_json()["response"]) == {"pipeline-status"}  # the charts keep what they show

    ready = client.get("/health/ready")
    assert ready.status_code == 503 and ready.get_json()["database"].startswith("unreachable")
    assert client.get("/health").status_code == 200

    anonymous = app.server.test_client()
    anonymous.environ_base["REMOTE_ADDR"] = "10.250.0.1"
    from tests.conftest import AuthActions

    refused = AuthActions(anonymous).login(faulty.email, PASSWORD)
    assert refused.status_code == 503 and SIGN_IN_UNAVAILABLE in refused.get_data(as_text=True)

    faulty.allow_connections()
    assert kpis(client) == before  # no restart: the pool reconnects by itself
    assert client.get("/pipeline").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert AuthActions(anonymous).login(faulty.email, PASSWORD).status_code == 302


def test_a_refresh_killed_half_way_loses_nothing_and_the_next_one_succeeds(make_faulty, client, auth):
    faulty = make_faulty(None)
    sign_in(client, auth, faulty.email)
    before = rows(client, "pipeline")
    with psycopg_connection(faulty.engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) "
                     "select 1, 'sms', '2026-03-02T10:00:00Z' from generate_series(1, 25)")
    jobs = services_of(client.application).jobs
    started = threading.Event()

    # Hold a lock the refresh needs, so it is caught half-way; then kill its backend.
    with psycopg.connect(_libpq(faulty.url)) as blocker:
        blocker.execute("lock table recruiting.applications in access exclusive mode")
        job, _ = jobs.submit(["pipeline"], trigger="api")
        deadline = time.monotonic() + 20
        with psycopg.connect(_maintenance(faulty.url), autocommit=True) as admin:
            while time.monotonic() < deadline:
                pid = admin.execute(
                    "select pid from pg_stat_activity where datname = %s and query like %s and state = 'active' "
                    "and wait_event_type = 'Lock'", (faulty.engine.url.database, "%refresh_pipeline_kpis%"),
                ).fetchone()
                if pid:
                    started.set()
                    admin.execute("select pg_terminate_backend(%s)", (pid[0],))
                    break
                time.sleep(0.05)
        blocker.rollback()
    assert started.is_set(), "the refresh never reached the view"
    done = _wait(faulty.engine, job.job_id)
    assert done.status == "failed" and done.error

    assert rows(client, "pipeline") == before  # the old figures, whole: nothing half-applied
    job, _ = jobs.submit(["pipeline"], trigger="api")
    assert _wait(faulty.engine, job.job_id).status == "succeeded"
    after = rows(client, "pipeline")
    march = [r for r in after if r["facility_id"] == 1 and r["month"] == "2026-03"]
    old_march = [r for r in before if r["facility_id"] == 1 and r["month"] == "2026-03"]
    assert march[0]["applications"] == (old_march[0]["applications"] or 0) + 25 or old_march[0]["applications"] is None


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _wait(engine, job_id: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job_status(engine, job_id)
        if status is not None and status.status in ("succeeded", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.redis
def test_under_gunicorn_a_redis_outage_keeps_sign_in_and_the_api_working(make_database, second_redis, tmp_path):
    """The newcomer's case, end to end: the server's Redis goes away; sign-in, pages and the API keep answering,
    readiness says so, and all is back when Redis is."""
    import os
    import signal
    import sys
    from pathlib import Path

    from tests.dashboard.test_multiprocess import Browser, _wait_healthy

    url = make_database()
    engine = get_engine(url)
    seed(engine, SMALL)
    refresh_views(engine, ["all"], trigger="cli")
    email = f"admin-{uuid.uuid4().hex[:8]}@faults.example"
    create_user(engine, email, PASSWORD, "admin")
    root = Path(__file__).resolve().parents[2]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": second_redis.url, "SECRET_KEY": uuid.uuid4().hex,
           "SESSION_COOKIE_SECURE": "false", "SCHEDULER_ENABLED": "false", "WEB_CONCURRENCY": "1",
           "GUNICORN_THREADS": "2", "GUNICORN_ACCESS_LOG": "off", "LOG_LEVEL": "WARNING", "PROXY_FIX_HOPS": "1",
           "GUNICORN_BIND": f"127.0.0.1:{port}"}
    output_file = log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(root / "dashboard" / "gunicorn_conf.py"),
                                "dashboard.wsgi:server"], cwd=root, env=env, stdout=output_file,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(base, process, log, time.monotonic() + 60)
        first = Browser("198.18.0.10")
        assert first.login(base, email, PASSWORD) == 302
        query = f"/api/v1/analytics/kpis?{RANGE}"
        before = first.json(base, query)
        second_redis.stop()
        assert first.json(base, query)["rows"] == before["rows"]
        second = Browser("198.18.0.11")
        assert second.login(base, email, PASSWORD) == 302  # sign-in limits fall back to memory
        assert second.json(base, "/api/v1/analytics/revenue?" + RANGE)["rows"]
        assert second.request(base, "/pipeline")[0] == 200
        assert first.request(base, "/health")[0] == 200
        status, body = first.request(base, "/health/ready")
        assert status == 503 and "unreachable" in body
        second_redis.start()
        time.sleep(6)  # the worker tries Redis again every 5 s
        assert first.json(base, query)["rows"] == before["rows"]
        assert first.request(base, "/health/ready")[0] == 200
        output = log.read_text()
        assert output.count("is not answering") == 1, output[-3000:]
        assert "Traceback" not in output, output[-3000:]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        output_file.close()
