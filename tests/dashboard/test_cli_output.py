"""What the `dashboard` command prints besides results: help that is never cut off, logs without colour codes."""

from __future__ import annotations

import logging

import click
import pytest
from click.testing import CliRunner

from dashboard.cli import LOG_FORMAT, _PlainFormatter, main


def groups(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Group]]:
    if not isinstance(command, click.Group):
        return []
    found = [(path, command)]
    for name, sub in command.commands.items():
        found += groups(sub, (*path, name))
    return found


@pytest.mark.parametrize(("path", "group"), groups(main), ids=lambda value: " ".join(value) or "dashboard"
                         if isinstance(value, tuple) else "")
def test_every_command_summary_fits_in_the_help_listing(path: tuple[str, ...], group: click.Group) -> None:
    """`--help` lists each subcommand with the first sentence of its help; click cuts a long one off with "...",
    so every command starts with a short sentence and says the rest in its own --help."""
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=80)
    assert result.exit_code == 0
    listing = result.output.split("Commands:\n", 1)[1].splitlines()
    assert len(listing) == len(group.commands)
    for line in listing:
        assert not line.rstrip().endswith(("...", "…")), line
        name = line.split()[0]
        assert group.commands[name].help, f"{name} has no help"


def test_logs_to_a_file_or_pipe_carry_no_colour_codes() -> None:
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"GET / HTTP/1.1" %s -', ("\x1b[32m200\x1b[0m",),
                               None)
    assert _PlainFormatter(LOG_FORMAT).format(record) == 'INFO werkzeug: "GET / HTTP/1.1" 200 -'
