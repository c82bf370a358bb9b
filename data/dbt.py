"""dbt, run from the dashboard: the KPI stores built by the dbt project in sql/dbt/ (README.md, "dbt").

dbt runs in this process through its Python runner (`dbtRunner`), against the database of DATABASE_URL: the profile
(sql/dbt/profiles.yml) reads connection details from environment variables that `run_dbt` sets from the URL, parsed
the way the app parses it, only for the length of one run; no credentials are written anywhere. Runs are serialised
within a process (a lock) and across the processes of one host (a file lock): dbt's runner is not reentrant, and two
builds of one store would only wait for each other. dbt's target and log folders are kept under
~/.local/share/recruit-dashboard/dbt (DASHBOARD_DBT_DIR), or a temporary folder where that cannot be written; the
project itself is package data of `sql` and is never written to.

dbt is an optional dependency (`pip install -e '.[dbt]'`); without it `DbtMissing` says how to install it.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url

INSTALL_HINT = "dbt is not installed: pip install -e '.[dbt]'"
DEFAULT_STATE_DIR = Path.home() / ".local/share/recruit-dashboard/dbt"
_PROFILE_PREFIX = "RECRUIT_DBT_"
_run_lock = threading.Lock()


class DbtMissing(RuntimeError):
    """The dbt extra is not installed."""

    def __init__(self) -> None:
        super().__init__(INSTALL_HINT)


@dataclass(frozen=True)
class NodeResult:
    """One model, test, seed or source freshness check of a dbt run."""

    name: str
    resource_type: str  # model | test | source | ...
    status: str  # success | error | fail | warn | pass | skipped | runtime error | ...
    message: str | None
    seconds: float = 0.0  # dbt's execution time of the node


@dataclass(frozen=True)
class DbtRun:
    exit_code: int  # 0 done, 1 something failed (a model, a test), 2 dbt could not run (bad project, bad arguments)
    error: str | None  # dbt's failure message: the first failed node's, or the exception's
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.exit_code == 0


def dbt_available() -> bool:
    try:
        return importlib.util.find_spec("dbt.cli.main") is not None
    except ModuleNotFoundError:
        return False


def require_dbt() -> None:
    if not dbt_available():
        raise DbtMissing()


def project_dir() -> Path:
    """The dbt project: DASHBOARD_DBT_PROJECT (a copy of it, extended by a team, say), else the one shipped in the
    `sql` package (sql/dbt)."""
    chosen = os.environ.get("DASHBOARD_DBT_PROJECT")
    return Path(chosen).expanduser() if chosen else Path(str(files("sql").joinpath("dbt")))


def state_dir() -> Path:
    """Where dbt's target/ and logs/ go: DASHBOARD_DBT_DIR, else ~/.local/share/recruit-dashboard/dbt, else (not
    writable) a folder of this user's under the temporary directory."""
    chosen = Path(os.environ.get("DASHBOARD_DBT_DIR") or DEFAULT_STATE_DIR).expanduser()
    try:
        chosen.mkdir(parents=True, exist_ok=True)
        probe = chosen / ".writable"
        probe.touch()
        return chosen
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"recruit-dashboard-dbt-{os.getuid()}"
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def profile_environment(database_url: str, *, threads: int = 2) -> dict[str, str]:
    """The variables sql/dbt/profiles.yml reads, from a DATABASE_URL (any form the app accepts; a Unix socket given
    as `?host=/dir`, as the embedded server's URL has, works too)."""
    url = make_url(parse_database_url(database_url))

    def query(name: str) -> str | None:
        value = url.query.get(name)
        return value if isinstance(value, str) or value is None else (value[0] if value else None)

    sslmode = query("sslmode")
    env = {
        "HOST": url.host or query("host") or "localhost",
        "PORT": str(url.port or query("port") or 5432),
        "USER": url.username or os.environ.get("PGUSER") or "postgres",
        "PASSWORD": url.password or "",
        "DBNAME": url.database or "postgres",
        "THREADS": str(threads),
        "SSLMODE": sslmode or "prefer",
    }
    return {_PROFILE_PREFIX + key: value for key, value in env.items()}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _serialised(directory: Path) -> Iterator[None]:
    """One dbt run at a time in this process and on this host."""
    with _run_lock, open(directory / "dbt.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_dbt(database_url: str, args: Sequence[str], *, quiet: bool = False) -> DbtRun:
    """Run one dbt command (`["build"]`, `["run", "--select", "pipeline_kpis"]`, ...) against `database_url` and
    return its outcome; dbt prints its own output (only warnings and errors when `quiet`)."""
    require_dbt()
    from dbt.cli.main import dbtRunner

    state = state_dir()
    project = project_dir()
    env = {
        **profile_environment(database_url),
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET_PATH": str(state / "target"),
        "DBT_LOG_PATH": str(state / "logs"),
        "DBT_PACKAGES_INSTALL_PATH": str(state / "dbt_packages"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if quiet:
        env["DBT_LOG_LEVEL"] = "warn"
    cwd = os.getcwd()
    with _serialised(state), _environment(env):
        try:
            outcome = dbtRunner().invoke(list(args))
        except Exception as exc:  # dbt raised instead of returning (a broken install, say)
            return DbtRun(2, _flatten(str(exc)) or type(exc).__name__)
        finally:
            os.chdir(cwd)  # dbt's tasks work from the project folder and put the old one back; make sure of it
    return _summarise(outcome)


def _summarise(outcome: object) -> DbtRun:
    nodes: list[NodeResult] = []
    result = getattr(outcome, "result", None)
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        status = getattr(item, "status", "")
        nodes.append(NodeResult(
            name=getattr(node, "name", "?"),
            resource_type=str(getattr(node, "resource_type", "")),
            status=str(getattr(status, "value", status)),
            message=_flatten(getattr(item, "message", None) or "") or _freshness_message(item),
            seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
        ))
    exception = getattr(outcome, "exception", None)
    if exception is not None:
        return DbtRun(2, _flatten(str(exception)) or type(exception).__name__, nodes)
    if getattr(outcome, "success", False):
        return DbtRun(0, None, nodes)
    failed = [n for n in nodes if n.status in ("error", "fail", "runtime error")]
    error = (f"{failed[0].name}: {failed[0].message or failed[0].status}" if failed[0].resource_type == "source"
             else failed[0].message or f"{failed[0].name}: {failed[0].status}") if failed else "dbt reported a failure"
    return DbtRun(1, error, nodes)


def _freshness_message(item: object) -> str | None:
    """A source freshness result has no message: say how old the newest row is."""
    age = getattr(item, "age", None)
    if age is None:
        return None
    return f"newest row is {float(age) / 86400:.1f} days old (warn after 2 days, error after 7)"


def _flatten(text: str) -> str | None:
    """dbt's multi-line messages as one line (app.refresh_runs shows one)."""
    joined = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return joined[:2000] or None
