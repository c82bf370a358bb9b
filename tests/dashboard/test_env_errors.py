"""A bad environment value stops every entry point with one line naming the variable (issue 12, item 10): the CLI
(exit 2), `dashboard.wsgi` (any WSGI server) and the gunicorn configuration (before any worker starts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from dashboard.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BAD = [("LOG_LEVEL", "LOUD"), ("HIPAA_MODE", "perhaps"), ("SESSION_MAX_HOURS", "0"), ("PROXY_FIX_HOPS", "many"),
       ("DATABASE_URL", "mysql://x")]


def _env(name: str, value: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    return {**env, "SECRET_KEY": "x" * 32, "SCHEDULER_ENABLED": "false", name: value}


def _one_line_naming(text: str, name: str) -> None:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert name in lines[0] and "Traceback" not in text


@pytest.mark.parametrize("raw", ["LOUD", "verbose", "5"])
def test_log_level_is_checked(raw: str) -> None:
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings({"SECRET_KEY": "x", "LOG_LEVEL": raw})
    assert load_settings({"SECRET_KEY": "x", "LOG_LEVEL": "warning"}).log_level == "WARNING"


def test_session_max_hours_default_and_bounds() -> None:
    assert load_settings({"SECRET_KEY": "x"}).session_max_hours == 12
    assert load_settings({"SECRET_KEY": "x", "SESSION_MAX_HOURS": "24"}).session_max_hours == 24
    with pytest.raises(SettingsError, match="SESSION_MAX_HOURS"):
        load_settings({"SECRET_KEY": "x", "SESSION_MAX_HOURS": "0"})


@pytest.mark.parametrize(("name", "value"), BAD)
@pytest.mark.parametrize("command", [["migrate"], ["users", "list"], ["tokens", "list", "--email", "a@x.org"]])
def test_the_cli_says_one_line_and_exits_2(name: str, value: str, command: list[str]) -> None:
    result = CliRunner().invoke(main, command, env={name: value})
    assert result.exit_code == 2
    _one_line_naming(result.output, name)


@pytest.mark.parametrize(("name", "value"), BAD[:3])
def test_the_wsgi_module_says_one_line(name: str, value: str) -> None:
    done = subprocess.run([sys.executable, "-c", "import dashboard.wsgi"], env=_env(name, value), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3  # gunicorn's "worker failed to boot": it stops instead of respawning
    _one_line_naming(done.stderr, name)


@pytest.mark.parametrize(("name", "value"), [*BAD[:3], ("SECRET_KEY", "")])
def test_gunicorn_says_one_line_before_any_worker_starts(name: str, value: str) -> None:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    done = subprocess.run([str(gunicorn), "-c", "dashboard/gunicorn_conf.py", "--bind", "127.0.0.1:0",
                           "dashboard.wsgi:server"], env=_env(name, value), cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    _one_line_naming(done.stderr + done.stdout, name)
