"""`dashboard demo`: claim the port, start the embedded database, prepare schema, data, views and users, then serve
quietly until Ctrl+C, which stops the embedded database too.

The terminal shows a short list of steps (a progress bar while seeding) and ends with the URL and the demo users;
library chatter stays out of it unless LOG_LEVEL asks for it.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import click
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from auth.context import services_of
from auth.demo import ensure_demo_users
from dashboard.health import ServiceUnreachable, check_services
from dashboard.ports import PortUnavailable, reserve_port
from dashboard.settings import Settings, SettingsError, load_settings
from data.embedded import (
    EmbeddedInUse,
    embedded_data_dir,
    embedded_state,
    release_embedded,
    start_embedded,
    stop_embedded,
)
from data.engine import dispose_all, get_engine
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import Progress, SeedConfig, database_has_data, seed

SeedProgress = Callable[[int], AbstractContextManager[Progress]]


def _no_progress(_total: int) -> AbstractContextManager[Progress]:
    return nullcontext(lambda _step, _n: None)


def prepare_demo(
    settings: Settings,
    *,
    applications: int = 200_000,
    report: Callable[[str], None] = lambda _line: None,
    seed_progress: SeedProgress = _no_progress,
) -> list[str]:
    """Migrate, seed when empty, refresh the views and (re)create the demo users; returns their sign-in lines.

    `report` gets one short line per step; `seed_progress(work_units)` wraps the seeding (a progress bar).
    """
    engine = get_engine(settings.database_url)
    applied = migrate(engine).applied
    report(f"schema: {len(applied)} migration(s) applied" if applied else "schema: up to date")
    if database_has_data(engine):
        report("demo data: already loaded (`dashboard seed --reset` replaces it)")
    else:
        config = SeedConfig(applications=applications)
        with seed_progress(config.work_units) as progress:
            done = seed(engine, config, progress=progress)
        report(f"demo data: {done.facilities} facilities, {done.applications:,} applications, "
               f"{done.compliance_checks:,} compliance checks, {done.invoices:,} invoices, {done.outreach:,} outreach")
    refresh_views(engine, ["all"], trigger="cli", build=settings.refresh_build)
    report("views: refreshed" + (" with dbt" if settings.dbt_enabled else ""))
    return ensure_demo_users(engine)


def run_demo(host: str, port: int, *, applications: int) -> None:
    """Everything `dashboard demo` does, until Ctrl+C (or SIGTERM, or the terminal closing)."""
    try:
        settings = load_settings(demo=True)
    except SettingsError as exc:
        from dashboard.cli import ConfigError

        raise ConfigError(str(exc)) from None
    try:
        listener = reserve_port(host, port, command="demo")
    except PortUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    _quiet_logging()
    click.echo("Starting the demo (Ctrl+C stops it and its database):")
    directory = None
    if settings.database_url is None:
        directory = embedded_data_dir()
        state = embedded_state(directory)
        settings = settings.with_overrides(database_url=start_embedded(directory))
        _step({"absent": f"database: created the embedded PostgreSQL in {directory}",
               "stopped": f"database: started the embedded PostgreSQL (data in {directory})",
               "running": f"database: the embedded PostgreSQL in {directory} is already running"}[state])
    else:
        url = make_url(settings.database_url)
        _step(f"database: {url.database} on {url.host or 'the local socket'} (DATABASE_URL)")
    try:
        check_services(settings.database_url, settings.redis_url)
    except ServiceUnreachable as exc:
        listener.close()
        if directory is not None:
            release_embedded(directory)
        raise click.ClickException(str(exc)) from None
    users = prepare_demo(settings, applications=applications, report=_step, seed_progress=_progress_bar)
    from dashboard.app import create_app

    app = create_app(settings)
    server = make_server(host, port, app.server, threaded=True, fd=listener.fileno())
    listener.close()  # the server holds its own duplicate of the socket
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"\nOpen http://{shown_host}:{port}/ and sign in as a demo user (public passwords, for the demo only):")
    for line in users:
        click.echo(f"  {line}")
    try:
        _serve_until_stopped(server)
    finally:
        _shut_down(app, directory)


def stop_demo() -> None:
    """`dashboard demo --stop`: stop an embedded PostgreSQL left running (after a kill -9, say)."""
    directory = embedded_data_dir()
    try:
        stopped = stop_embedded(directory)
    except EmbeddedInUse as exc:
        raise click.ClickException(str(exc)) from None
    where = f"its data ({_size_mb(directory):,} MB) stays in {directory}" if directory.exists() else ""
    if stopped:
        click.echo(f"stopped the embedded PostgreSQL; {where}" if where else "stopped the embedded PostgreSQL")
    else:
        click.echo(f"the embedded PostgreSQL is not running; {where}" if where else
                   f"there is no embedded PostgreSQL in {directory}")


def _step(line: str) -> None:
    click.echo(f"  {line}")


@contextmanager
def _progress_bar(total: int) -> Iterator[Progress]:
    with click.progressbar(length=total, label="  demo data: seeding") as bar:
        yield lambda _step, n: bar.update(n)


def _quiet_logging() -> None:
    """Warnings and errors only, unless LOG_LEVEL is set. werkzeug would log every request (in colour, even into
    a file): it sets its own logger to INFO when that has no level, so it gets one here."""
    if os.environ.get("LOG_LEVEL"):
        return
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _serve_until_stopped(server: BaseWSGIServer) -> None:
    # SIGTERM (kill, service managers) and SIGHUP (the terminal closed) stop the demo as Ctrl+C does, so the
    # clean-up runs and the embedded database stops with it; a signal the caller ignores (nohup) stays ignored.
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, signal.default_int_handler)
    server.serve_forever()  # returns on KeyboardInterrupt


def _shut_down(app, directory: Path | None) -> None:
    click.echo("\nStopping the demo...")
    bound = services_of(app.server)
    if bound.scheduler is not None and bound.scheduler.running:
        bound.scheduler.pause()  # no refresh may start against a database that is stopping
    bound.jobs.shutdown()
    dispose_all()
    if directory is None:
        click.echo("stopped")
    elif release_embedded(directory):
        click.echo(f"stopped the dashboard and the embedded PostgreSQL; the demo data stays in {directory}")
    else:
        click.echo("stopped the dashboard; the embedded PostgreSQL keeps running for the other dashboard processes "
                   "using it and stops with the last of them")


def _size_mb(directory: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    return round(total / 1_000_000)
