"""data/embedded.py with the real pgserver: the server stops with the last process using it, `stop_embedded` stops a
leftover, and as root the folders pgserver opens get their modes back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from data.embedded import EmbeddedInUse, embedded_state, stop_embedded

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0

# A process that starts the embedded server in argv[1], says so, then holds it until its stdin closes.
HOLDER = """
import os, sys
from pathlib import Path
from data.embedded import start_embedded
start_embedded(Path(sys.argv[1]))
print(oct(Path(sys.argv[1]).parent.stat().st_mode & 0o7777), flush=True)
sys.stdin.read()
"""


def hold(directory: Path) -> tuple[subprocess.Popen, int]:
    """Start a holder; returns it and the mode the data directory's parent had while the server ran."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line, "the holder failed to start the embedded server"
    return process, int(line, 8)


def release(process: subprocess.Popen) -> None:
    process.stdin.close()
    assert process.wait(timeout=60) == 0


@pytest.fixture
def private_home(tmp_path: Path) -> Path:
    """A folder only its owner may enter, like root's home (0700), holding the data directory."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    return home


def test_the_server_stops_with_the_last_process_using_it(private_home: Path) -> None:
    directory = private_home / "pgdata"
    first, mode_while_running = hold(directory)
    second, _ = hold(directory)
    assert embedded_state(directory) == "running"
    if AS_ROOT:
        # pgserver runs PostgreSQL as the user `pgserver` and opens the folders above the data directory to it.
        assert mode_while_running == 0o755
    release(first)
    assert embedded_state(directory) == "running", "stopped while another process still used it"
    release(second)
    assert embedded_state(directory) == "stopped"
    assert private_home.stat().st_mode & 0o7777 == 0o700, "the folder's mode was not put back"


def test_a_killed_process_does_not_keep_the_server_running_for_ever(private_home: Path) -> None:
    directory = private_home / "pgdata"
    killed, _ = hold(directory)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert embedded_state(directory) == "running"  # nothing could stop it: its last user died
    later, _ = hold(directory)
    release(later)
    assert embedded_state(directory) == "stopped"
    assert private_home.stat().st_mode & 0o7777 == 0o700


def test_stop_refuses_while_in_use_and_stops_a_leftover(private_home: Path) -> None:
    directory = private_home / "pgdata"
    assert stop_embedded(directory) is False  # nothing there yet
    holder, _ = hold(directory)
    with pytest.raises(EmbeddedInUse, match=f"in use by dashboard process\\(es\\) {holder.pid}"):
        stop_embedded(directory)
    assert embedded_state(directory) == "running"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert stop_embedded(directory) is True
    assert embedded_state(directory) == "stopped"
    assert private_home.stat().st_mode & 0o7777 == 0o700
    assert stop_embedded(directory) is False
