"""Two real gunicorn servers sharing only PostgreSQL and Redis behave as one (docs/SCALING.md).

A session signed in on A is valid on B, a dataset cached by A is a hit on B, a refresh started on A bumps the data
data version both report, and failed sign-ins count against one limit whichever process answers them. Each server
runs `dashboard/gunicorn_conf.py` with one worker, behind a pretend proxy (PROXY_FIX_HOPS=1, a random client address
per run) so other tests' sign-in failures from 127.0.0.1 never share this test's per-address limit.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

from auth.users import create_user
from data.cache import KEY_PREFIX, database_namespace
from data.engine import get_engine
from data.refresh import refresh_views
from data.seed import SeedConfig, seed
from tests.conftest import SEED_NOW

pytestmark = pytest.mark.redis  # two processes share one Redis
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "two processes one truth"
START_TIMEOUT = 30.0
SMALL = SeedConfig(applications=1500, facilities=4, months=6, seed=11, now=SEED_NOW)


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A cookie jar shared across servers, as a browser behind a load balancer would hold it."""

    def __init__(self, client_ip: str) -> None:
        self.jar = CookieJar()
        self._opener = build_opener(HTTPCookieProcessor(self.jar), _NoRedirect())
        self._client_ip = client_ip

    def request(self, base: str, path: str, *, data: bytes | None = None, json_body: Any = None) -> tuple[int, str]:
        headers = {"X-Forwarded-For": self._client_ip}
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
            headers["X-CSRFToken"] = next((c.value for c in self.jar if c.name == "_csrf_token"), "")
        try:
            with self._opener.open(Request(base + path, data=data, headers=headers), timeout=15) as answer:
                return answer.status, answer.read().decode()
        except HTTPError as exc:
            return exc.code, exc.read().decode()

    def json(self, base: str, path: str, **kwargs: Any) -> Any:
        status, body = self.request(base, path, **kwargs)
        assert status in (200, 202), f"{path}: HTTP {status}: {body[:200]}"
        return json.loads(body)

    def login(self, base: str, email: str, password: str) -> int:
        _, page = self.request(base, "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
        return self.request(base, "/login", data=form)[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn at {base} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with build_opener().open(base + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn at {base} did not answer /health within {START_TIMEOUT:.0f} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def cluster(make_database: Callable[[], str], redis_url: str, tmp_path_factory) -> Iterator[dict[str, Any]]:
    """Two one-worker gunicorn servers (A, B) on loopback, one small seeded database, one Redis."""
    url = make_database()
    engine = get_engine(url)
    seed(engine, SMALL)
    refresh_views(engine, ["all"], trigger="cli")
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@multi.example"
    create_user(engine, admin_email, PASSWORD, "admin")
    logs = tmp_path_factory.mktemp("gunicorn")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": uuid.uuid4().hex,
        "SESSION_COOKIE_SECURE": "false",
        "SCHEDULER_ENABLED": "false",
        "PROXY_FIX_HOPS": "1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESS_LOG": "off",
        "LOG_LEVEL": "WARNING",
        # The pre-warming thread would build selections on B between the test's counts; sharing is what's tested.
        "WARM_DEFAULTS": "off",
    }
    servers, processes = {}, []
    try:
        for name in ("A", "B"):
            port = _free_port()
            log = logs / f"{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "dashboard" / "gunicorn_conf.py"),
                 "dashboard.wsgi:server"],
                cwd=ROOT,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(process)
            servers[name] = (f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + START_TIMEOUT
        for base, process, log in servers.values():
            _wait_healthy(base, process, log, deadline)
        yield {"A": servers["A"][0], "B": servers["B"][0], "admin": admin_email, "url": url}
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def browser() -> Browser:
    return Browser(f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}")


def test_session_made_on_one_process_is_valid_on_the_other(cluster: dict, browser: Browser) -> None:
    a, b = cluster["A"], cluster["B"]
    assert browser.request(b, "/api/v1/analytics/health")[0] == 401
    assert browser.login(a, cluster["admin"], PASSWORD) == 302
    status, body = browser.request(b, "/api/v1/analytics/health")
    assert status == 200, body
    assert json.loads(body)["database"] == "ok"


def test_cache_entry_written_by_one_process_is_a_hit_on_the_other(
    cluster: dict, browser: Browser, redis_url: str
) -> None:
    import redis

    a, b = cluster["A"], cluster["B"]
    assert browser.login(a, cluster["admin"], PASSWORD) == 302
    query = "/api/v1/analytics/revenue?start=2026-01&end=2026-06"
    a_before = browser.json(a, "/api/v1/analytics/health")["cache"]
    browser.json(a, query)
    a_after = browser.json(a, "/api/v1/analytics/health")["cache"]
    b_before = browser.json(b, "/api/v1/analytics/health")["cache"]
    b_rows = browser.json(b, query)["rows"]
    b_after = browser.json(b, "/api/v1/analytics/health")["cache"]

    assert a_after["misses"] > a_before["misses"], "A computed the revenue view itself"
    assert b_rows
    assert b_after["misses"] == b_before["misses"], "B computed nothing: A's entry was there"
    assert b_after["hits"] > b_before["hits"]
    namespace = database_namespace(cluster["url"])
    keys = redis.Redis.from_url(redis_url).keys(f"{KEY_PREFIX}:{namespace}:revenue:masked:*")
    assert keys, "the masked revenue view is stored in the shared Redis"


def test_refresh_on_one_process_bumps_the_data_version_both_see(cluster: dict, browser: Browser) -> None:
    a, b = cluster["A"], cluster["B"]
    assert browser.login(b, cluster["admin"], PASSWORD) == 302
    before = {name: browser.json(base, "/api/v1/analytics/health")["versions"]["pipeline"]
              for name, base in (("A", a), ("B", b))}
    assert before["A"] == before["B"]
    job = browser.json(a, "/api/v1/analytics/refresh", json_body={"views": ["pipeline"]})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = browser.json(b, f"/api/v1/analytics/refresh/{job['job_id']}")  # job state lives in PostgreSQL
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert status["status"] == "succeeded", status
    # The bump follows the job's rows by a moment (it runs after the refresh returns, in A's job thread).
    while time.monotonic() < deadline:
        after = {name: browser.json(base, "/api/v1/analytics/health")["versions"]["pipeline"]
                 for name, base in (("A", a), ("B", b))}
        if after["A"] > before["A"]:
            break
        time.sleep(0.1)
    assert after["A"] == after["B"] == before["A"] + 1


def test_failed_sign_ins_count_against_one_limit_across_processes(cluster: dict, browser: Browser) -> None:
    a, b = cluster["A"], cluster["B"]
    email = f"nobody-{uuid.uuid4().hex[:8]}@multi.example"  # LOGIN_LIMIT_PER_EMAIL_AND_CLIENT: 5 a minute
    answers = [browser.login(server, email, "wrong password") for server in (a, b, a, b, a, b)]
    assert answers == [401, 401, 401, 401, 401, 429]
