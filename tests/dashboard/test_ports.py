"""dashboard/ports.py: a taken port is refused with a free one to try instead."""

from __future__ import annotations

import re
import socket

import pytest

from dashboard.ports import PortUnavailable, check_port, reserve_port


def test_a_free_port_is_held_until_the_server_takes_it_over() -> None:
    sock = reserve_port("127.0.0.1", 0, command="demo")
    port = sock.getsockname()[1]
    with pytest.raises(PortUnavailable, match=f"port {port} on 127.0.0.1 is already in use"):
        check_port("127.0.0.1", port, command="demo")
    sock.close()
    check_port("127.0.0.1", port, command="demo")  # free again (a just-closed listener leaves no hold)


def test_a_taken_port_suggests_one_that_is_free() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable) as refused:
            check_port("127.0.0.1", port, command="run")
    suggested = int(re.search(r"try `dashboard run --port (\d+)`", str(refused.value)).group(1))
    assert suggested > port
    check_port("127.0.0.1", suggested, command="run")


def test_an_unknown_host_is_named() -> None:
    with pytest.raises(PortUnavailable, match=r"cannot listen on no-such-host\.invalid: unknown host"):
        check_port("no-such-host.invalid", 8050, command="demo")
