"""`dashboard demo` (dashboard/demo.py): a short first-start report ending with the URL and the users, the port
checked before anything else, Ctrl+C stopping the embedded database, `--stop` for a leftover."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from auth.demo import DEMO_USERS
from dashboard.cli import main
from dashboard.demo import prepare_demo
from dashboard.settings import load_settings
from data.embedded import embedded_state
from data.engine import get_engine, psycopg_connection
from data.seed import SeedConfig

DASHBOARD = [sys.executable, "-c", "from dashboard.cli import main; main()"]
NOISE = ("initdb", "pg_ctl", "pgserver", "XDG_RUNTIME_DIR", "\x1b[", "Serving Flask app", "development server",
         "apscheduler", "REDIS_URL", "Traceback")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def listening(port: int) -> Iterator[None]:
    """Something else listening on the port, as a dashboard started earlier would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


def demo_env(pgdata: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "SECRET_KEY"}}
    return {**env, "DASHBOARD_PGDATA": str(pgdata)}


def dashboard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([*DASHBOARD, *args], env=env, capture_output=True, text=True, timeout=120)


def test_first_start_reports_briefly_and_ctrl_c_stops_the_embedded_database(tmp_path: Path) -> None:
    pgdata, port = tmp_path / "pgdata", free_port()
    env = demo_env(pgdata)
    # Ctrl+C in a terminal: SIGINT with its default action, whatever this test process inherited.
    demo = subprocess.Popen([*DASHBOARD, "demo", "--port", str(port), "--applications", "300"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = []
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if DEMO_USERS[-1][0] in line:
                break
        output = "\n".join(lines)
        assert lines[:2] == ["Starting the demo (Ctrl+C stops it and its database):",
                             f"  database: created the embedded PostgreSQL in {pgdata}"], output
        steps = [line.split(":")[0].strip() for line in lines[2:] if line.startswith("  ") and ":" in line][:4]
        assert steps == ["schema", "demo data", "demo data", "views"], output
        assert "300 applications" in output
        # It ends with the URL and the users (nothing else is said about where it runs).
        url = f"http://127.0.0.1:{port}/"
        assert lines[-4] == f"Open {url} and sign in as a demo user (public passwords, for the demo only):"
        assert [email for email, _role, _password in DEMO_USERS] == [line.split()[2] for line in lines[-3:]]
        assert not [word for word in NOISE if word in output], output
        assert len(re.findall("running on", output, re.IGNORECASE)) == 0 and output.count(url) == 1
        assert len(lines) <= 14, output
        with urllib.request.urlopen(f"{url}health", timeout=10) as response:
            assert response.status == 200

        # A second demo on the same port is refused at once, before it touches the database.
        second = dashboard("demo", "--port", str(port), env=env)
        assert second.returncode == 1
        assert re.fullmatch(rf"Error: port {port} on 127.0.0.1 is already in use \(a dashboard already running\?\): "
                            r"try `dashboard demo --port \d+`\n", second.stderr)
        assert second.stdout == ""
        # --stop refuses to pull the database from under the running demo.
        refused = dashboard("demo", "--stop", env=env)
        assert refused.returncode == 1 and f"in use by dashboard process(es) {demo.pid}" in refused.stderr
        assert embedded_state(pgdata) == "running"

        started = time.monotonic()
        demo.send_signal(signal.SIGINT)
        rest = demo.stdout.read()
        assert demo.wait(timeout=60) == 0, rest
        assert time.monotonic() - started < 30
    finally:
        if demo.poll() is None:
            demo.kill()
    assert f"stopped the dashboard and the embedded PostgreSQL; the demo data stays in {pgdata}" in rest
    assert embedded_state(pgdata) == "stopped"
    stopped = dashboard("demo", "--stop", env=env)
    assert stopped.returncode == 0
    assert re.fullmatch(rf"the embedded PostgreSQL is not running; its data \(\d+ MB\) stays in {pgdata}\n",
                        stopped.stdout)


@pytest.mark.parametrize("command", [["demo"], ["run"]])
def test_a_busy_port_is_refused_before_anything_else(make_database, command: list[str]) -> None:
    url = make_database()
    port = free_port()
    with listening(port):
        result = CliRunner().invoke(main, [*command, "--port", str(port)],
                                    env={"DATABASE_URL": url, "REDIS_URL": "", "SECRET_KEY": "x" * 40})
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert re.search(rf"try `dashboard {command[0]} --port \d+`", result.output)
    with psycopg_connection(get_engine(url)) as conn:
        refreshes = conn.execute("select count(*) from app.refresh_runs").fetchone()[0]
        users = conn.execute("select count(*) from app.users").fetchone()[0]
    get_engine(url).dispose()  # the whole suite shares the server's max_connections
    assert (refreshes, users) == (0, 0), "it refreshed views or created users before refusing"


def test_prepare_demo_reports_each_step_and_seeds_only_an_empty_database(make_database) -> None:
    settings = load_settings({"DATABASE_URL": make_database()}, demo=True)
    steps: list[str] = []
    bars: list[tuple[int, int]] = []

    @contextmanager
    def progress(total: int):
        done = [0]
        yield lambda _step, n: done.__setitem__(0, done[0] + n)
        bars.append((total, done[0]))

    users = prepare_demo(settings, applications=250, report=steps.append, seed_progress=progress)
    assert [step.split(":")[0] for step in steps] == ["schema", "demo data", "views"]
    assert "250 applications" in steps[1]
    assert bars == [(SeedConfig(applications=250).work_units,) * 2]  # the bar ends full
    assert len(users) == len(DEMO_USERS)
    steps.clear()
    prepare_demo(settings, applications=250, report=steps.append, seed_progress=progress)
    assert steps == ["schema: up to date", "demo data: already loaded (`dashboard seed --reset` replaces it)",
                     "views: refreshed"]
    assert len(bars) == 1
    get_engine(settings.database_url).dispose()
