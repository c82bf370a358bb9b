"""Health that tells the truth (issue 12, item 11): the start-up check names an unreachable database or Redis in one
line (`dashboard run`, `dashboard demo`, the gunicorn master); `/health` is liveness, `/health/ready` readiness."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from dashboard.health import ServiceUnreachable, check_database, check_redis, check_services

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_database_is_named_in_one_line_without_its_password():
    port = _free_port()
    problem = check_database(f"postgresql+psycopg://someone:s3cret@127.0.0.1:{port}/recruit", timeout=1)
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"cannot reach the database recruit on 127.0.0.1:{port} (DATABASE_URL)")
    assert "s3cret" not in problem


def test_an_unreachable_redis_is_named_in_one_line_without_its_password():
    port = _free_port()
    problem = check_redis(f"redis://:s3cret@127.0.0.1:{port}/3", timeout=1)
    assert problem is not None and "\n" not in problem
    assert problem.startswith(f"cannot reach Redis at 127.0.0.1:{port}/3 (REDIS_URL)") and "s3cret" not in problem
    with pytest.raises(ServiceUnreachable, match="Redis"):
        check_services(None, f"redis://127.0.0.1:{port}/0")


def test_reachable_services_pass(server_url):
    check_services(server_url, None)


def _env(server_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LOG_LEVEL")}
    env.update(DATABASE_URL=server_url, SECRET_KEY=uuid.uuid4().hex, SESSION_COOKIE_SECURE="false",
               SCHEDULER_ENABLED="false", **extra)
    return env


@pytest.mark.parametrize("command", [["run"], ["demo", "--applications", "100"]])
def test_run_and_demo_refuse_to_start_naming_an_unreachable_redis(server_url, command):
    bad = f"redis://127.0.0.1:{_free_port()}/0"
    cli = [sys.executable, "-c", "from dashboard.cli import main; main()"]
    done = subprocess.run([*cli, *command, "--port", str(_free_port())], cwd=ROOT,
                          env=_env(server_url, REDIS_URL=bad), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "cannot reach Redis at 127.0.0.1:" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_the_gunicorn_master_refuses_to_start_naming_an_unreachable_database(server_url):
    from sqlalchemy.engine import make_url

    bad = make_url(server_url).set(port=_free_port()).render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "dashboard" / "gunicorn_conf.py"), "dashboard.wsgi:server"],
        cwd=ROOT, env=_env(bad, GUNICORN_BIND=f"127.0.0.1:{_free_port()}", WEB_CONCURRENCY="1"),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "cannot reach the database" in output and "(DATABASE_URL)" in output, output[-2000:]
    assert "Booting worker" not in output


def test_health_is_liveness_and_ready_checks_the_database(client):
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ready" and ready.get_json()["database"] == "ok"
