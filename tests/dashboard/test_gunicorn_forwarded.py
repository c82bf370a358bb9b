"""gunicorn trusts forwarded scheme headers exactly as far as the app does (PROXY_FIX_HOPS; issue 12, item 9).

A real gunicorn with dashboard/gunicorn_conf.py serves the real app; a request from 127.0.0.1 claims HTTPS. With
PROXY_FIX_HOPS=0 nothing may claim it (no HSTS, no secure scheme); behind a proxy only X-Forwarded-Proto counts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
HSTS = "Strict-Transport-Security"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def start_gunicorn(make_database: Callable[[], str], tmp_path_factory) -> Iterator[Callable[[int], str]]:
    url = make_database()
    started: list[subprocess.Popen] = []

    def start(hops: int) -> str:
        port = _free_port()
        log = tmp_path_factory.mktemp("gunicorn") / "log"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex, "SCHEDULER_ENABLED": "false",
               "PROXY_FIX_HOPS": str(hops), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "1",
               "GUNICORN_ACCESS_LOG": "off", "LOG_LEVEL": "WARNING", "GUNICORN_BIND": f"127.0.0.1:{port}"}
        env.pop("REDIS_URL", None)
        env.pop("FORWARDED_ALLOW_IPS", None)
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "-c", "dashboard/gunicorn_conf.py",
             "dashboard.wsgi:server"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-2000:]}")
            try:
                with urlopen(base + "/health", timeout=2):
                    return base
            except (URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not start:\n{log.read_text()[-2000:]}")

    yield start
    for process in started:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _claims_https(base: str, headers: dict[str, str]) -> bool:
    with urlopen(Request(base + "/health", headers=headers), timeout=10) as answer:
        return HSTS in answer.headers


CLAIMS = [{"X-Forwarded-Proto": "https"}, {"X-Forwarded-Ssl": "on"}, {"X-Forwarded-Protocol": "ssl"}]


def test_without_proxies_no_header_makes_a_request_https(start_gunicorn) -> None:
    base = start_gunicorn(0)
    assert [_claims_https(base, headers) for headers in CLAIMS] == [False, False, False]


def test_behind_a_proxy_only_x_forwarded_proto_counts(start_gunicorn) -> None:
    base = start_gunicorn(1)
    assert [_claims_https(base, headers) for headers in CLAIMS] == [True, False, False]
