"""Claim the web server's port before doing anything slow, and say which port to use instead when it is taken."""

from __future__ import annotations

import errno
import socket


class PortUnavailable(RuntimeError):
    """The host and port cannot be listened on; the message says why and what to try instead."""


def reserve_port(host: str, port: int, *, command: str) -> socket.socket:
    """A socket bound to (host, port) and listening, for the server to take over (werkzeug's `fd=`).

    Holding it from the start means nothing slow (database start, seeding) happens before a refusal, and nothing
    can take the port in between; connections that arrive before the server is ready wait in the backlog.
    """
    try:
        sock = _bind(host, port)
    except OSError as exc:
        raise PortUnavailable(_explain(host, port, exc, command)) from None
    sock.listen(128)
    return sock


def check_port(host: str, port: int, *, command: str) -> None:
    """Raise PortUnavailable unless (host, port) could be listened on now."""
    reserve_port(host, port, command=command).close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As werkzeug does: a port left in TIME_WAIT by a server that just stopped is free, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _explain(host: str, port: int, exc: OSError, command: str) -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: unknown host ({exc.strerror})"
    if exc.errno == errno.EADDRINUSE:
        free = _free_port_after(host, port)
        hint = f"try `dashboard {command} --port {free}`" if free else "choose another port with --port"
        return f"port {port} on {host} is already in use (a dashboard already running?): {hint}"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def _free_port_after(host: str, port: int, tries: int = 50) -> int | None:
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        try:
            _bind(host, candidate).close()
        except OSError:
            continue
        return candidate
    return None
