"""An embedded PostgreSQL server for `dashboard demo` and local use when DATABASE_URL is unset.

Uses the pip-installable `pgserver` package (PostgreSQL binaries in a wheel), so no database needs installing. The
server keeps its data in one directory (DASHBOARD_PGDATA, default ~/.local/share/recruit-dashboard/pgdata) and runs
while a process uses it: pgserver lists the processes holding it, and the last one to exit stops it.

As root, pgserver runs PostgreSQL as the system user `pgserver` (PostgreSQL refuses to run as root; pgserver adds the
user with useradd on the first start) and adds read and search permission for everyone (g+rx, o+rx) to every folder
above the data directory and above its own binaries, so that user can reach them; root's home folder is usually one.
The modes those folders had are recorded in the data directory and put back once the server has stopped.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import time
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Literal

DEFAULT_DATA_DIR = Path.home() / ".local/share/recruit-dashboard/pgdata"
_HANDLES_FILE = ".handle_pids.json"  # pgserver's list of the processes using the server
_MODES_FILE = ".recruit_dashboard_folder_modes.json"  # folder modes to put back when the server stops
_servers: dict[Path, object] = {}

State = Literal["absent", "stopped", "running"]


class EmbeddedInUse(RuntimeError):
    """The embedded server cannot be stopped: other processes are using it."""


def embedded_data_dir(directory: Path | str | None = None) -> Path:
    """`directory`, else DASHBOARD_PGDATA, else ~/.local/share/recruit-dashboard/pgdata (absolute)."""
    return Path(directory or os.environ.get("DASHBOARD_PGDATA") or DEFAULT_DATA_DIR).expanduser().resolve()


def embedded_state(directory: Path | None = None) -> State:
    """absent (never created), stopped or running."""
    directory = embedded_data_dir(directory)
    if not (directory / "PG_VERSION").exists():
        return "absent"
    return "running" if _postmaster_pid(directory) else "stopped"


def start_embedded(directory: Path | None = None) -> str:
    """Start (or reuse) the embedded server and return a SQLAlchemy URL for its `postgres` database.

    The server stops when the last process using it exits, or earlier through `release_embedded`.
    """
    directory = embedded_data_dir(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    pgserver = _import_pgserver()
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    before = _folder_modes(_folders_pgserver_opens(directory, pgserver)) if as_root else {}
    if directory not in _servers:
        # atexit runs handlers last-in first-out: registered before pgserver registers its own, this one runs after
        # pgserver has stopped the server, when the folders may be closed again.
        atexit.register(_restore_folder_modes_if_stopped, directory)
    with _handles_lock(pgserver):
        _forget_exited_processes(directory)
    server = pgserver.get_server(directory, cleanup_mode="stop")
    _servers[directory] = server
    if before:
        _record_opened_folders(directory, before)
    uri = server.get_uri()
    return "postgresql+psycopg://" + uri.split("://", 1)[1]


def release_embedded(directory: Path | None = None) -> bool:
    """Stop using the embedded server now; it stops unless another process still uses it. True when it stopped."""
    directory = embedded_data_dir(directory)
    server = _servers.pop(directory, None)
    if server is not None:
        server.cleanup()
    _restore_folder_modes_if_stopped(directory)
    return embedded_state(directory) != "running"


def stop_embedded(directory: Path | None = None, *, timeout: float = 60.0) -> bool:
    """Stop a server left running in the data directory; False when none was running.

    Raises EmbeddedInUse while dashboard processes still use it: stopping it would break them.
    """
    directory = embedded_data_dir(directory)
    pid = _postmaster_pid(directory)
    if pid is None:
        _restore_folder_modes_if_stopped(directory)
        return False
    users = sorted(_live_handles(directory) - {os.getpid()})
    if users:
        raise EmbeddedInUse(
            f"the embedded PostgreSQL in {directory} is in use by dashboard process(es) "
            f"{', '.join(map(str, users))}: stop them first (Ctrl+C), it then stops with the last one"
        )
    os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown: roll back open transactions, then stop cleanly
    deadline = time.monotonic() + timeout
    while _postmaster_pid(directory) is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded PostgreSQL (pid {pid}) did not stop within {timeout:.0f} s")
        time.sleep(0.1)
    _restore_folder_modes_if_stopped(directory)
    return True


def _import_pgserver():
    """Import pgserver without its noise: platformdirs warns at import time when XDG_RUNTIME_DIR is unset (pgserver
    then keeps its lock file under /tmp, which is fine), and its INFO log repeats every initdb and pg_ctl call with
    their whole output."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def _handles_lock(pgserver):
    """pgserver's inter-process lock around its list of processes (nothing when a future version renames it)."""
    return getattr(pgserver.PostgresServer, "_lock", None) or nullcontext()


def _postmaster_pid(directory: Path) -> int | None:
    """The postmaster's pid from postmaster.pid (first line), when that process is alive."""
    try:
        pid = int((directory / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _live_handles(directory: Path) -> set[int]:
    try:
        pids = json.loads((directory / _HANDLES_FILE).read_text())
    except (OSError, ValueError):
        return set()
    return {pid for pid in pids if _alive(pid)}


def _forget_exited_processes(directory: Path) -> None:
    """Drop processes that died without letting go (kill -9, a crash) from pgserver's list: with one left in it,
    the last real user would never stop the server."""
    path = directory / _HANDLES_FILE
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    live = [pid for pid in pids if _alive(pid)]
    if live != pids:
        path.write_text(json.dumps(live))


def _folders_pgserver_opens(directory: Path, pgserver) -> set[Path]:
    """Every folder above the data directory, above pgserver's binaries and above its socket fallback folder."""
    binaries = Path(pgserver.__file__).resolve().parent / "pginstall" / "bin"
    runtime = Path(pgserver.PostgresServer.runtime_path)
    return {*directory.parents, *binaries.parents, runtime, *runtime.parents}


def _folder_modes(folders: set[Path]) -> dict[Path, int]:
    modes = {}
    for folder in folders:
        try:
            modes[folder] = folder.stat().st_mode & 0o7777
        except OSError:
            continue
    return modes


def _record_opened_folders(directory: Path, before: dict[Path, int]) -> None:
    """Add the folders whose mode changed since `before` to the record; an earlier entry (the original) wins."""
    now = _folder_modes(set(before))
    opened = {str(folder): mode for folder, mode in before.items() if now.get(folder) != mode}
    if not opened:
        return
    path = directory / _MODES_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        recorded = {}
    path.write_text(json.dumps({**opened, **recorded}, indent=1, sort_keys=True))


def _restore_folder_modes_if_stopped(directory: Path) -> None:
    if _postmaster_pid(directory) is not None:
        return  # another process still uses the server, which needs the folders open
    path = directory / _MODES_FILE
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    for folder, mode in recorded.items():
        try:
            Path(folder).chmod(mode)
        except OSError as exc:
            logging.getLogger(__name__).warning("could not restore the mode of %s to %o: %s", folder, mode, exc)
    path.unlink(missing_ok=True)
