"""The `dashboard` command (DESIGN.md §7): exit 0 on success, 1 on a refused operation, 2 on a usage error."""

from __future__ import annotations

import logging
import os
import sys

import click

from dashboard.settings import SettingsError, load_settings, parse_database_url
from data.engine import get_engine
from data.migrations import MigrationError, migrate
from data.refresh import VIEWS, refresh_views
from data.seed import SeedConfig, SeedError, seed

log = logging.getLogger(__name__)


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server (started on demand)."""
    raw = os.environ.get("DATABASE_URL")
    if raw:
        try:
            return parse_database_url(raw)
        except SettingsError as exc:
            raise click.UsageError(str(exc)) from None
    from data.embedded import start_embedded

    click.echo("DATABASE_URL is not set: using the embedded PostgreSQL server.", err=True)
    return start_embedded()


@click.group()
def main() -> None:
    """Healthcare-recruitment analytics dashboard."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), format="%(levelname)s %(name)s: %(message)s")


@main.command("migrate")
def migrate_command() -> None:
    """Apply pending SQL migrations."""
    try:
        report = migrate(get_engine(database_url()))
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    if report.applied:
        click.echo(f"applied {len(report.applied)} migration(s): {', '.join(report.applied)}")
    else:
        click.echo(f"nothing to apply ({len(report.already_applied)} migration(s) already applied)")


@main.command("seed")
@click.option("--applications", type=click.IntRange(min=1), default=200_000, show_default=True)
@click.option("--facilities", type=click.IntRange(min=1, max=10_000), default=40, show_default=True)
@click.option("--months", type=click.IntRange(min=1, max=240), default=24, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option("--reset", is_flag=True, help="Replace the data already in the database.")
def seed_command(applications: int, facilities: int, months: int, seed_value: int, reset: bool) -> None:
    """Generate demo data (deterministic for a given seed), then refresh the views."""
    engine = get_engine(database_url())
    migrate(engine)
    config = SeedConfig(applications=applications, facilities=facilities, months=months, seed=seed_value)
    # Work units: candidates (0.8 n), applications (n), checks (n), outreach (3 n).
    total = int(applications * 5.8) + facilities
    try:
        with click.progressbar(length=total, label="seeding", file=sys.stderr) as bar:
            report = seed(engine, config, reset=reset, progress=lambda _step, n: bar.update(n))
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    results = refresh_views(engine, ["all"], trigger="cli")
    click.echo(
        f"seeded {report.facilities} facilities, {report.candidates} candidates, {report.applications} applications,"
        f" {report.compliance_checks} checks, {report.placements} placements, {report.invoices} invoices,"
        f" {report.outreach} outreach; refreshed {', '.join(r.view for r in results if r.status == 'succeeded')}"
    )


@main.command("refresh")
@click.option("--view", type=click.Choice([*VIEWS, "all"]), default="all", show_default=True)
def refresh_command(view: str) -> None:
    """Refresh the KPI views CONCURRENTLY and record each run."""
    results = refresh_views(get_engine(database_url()), [view], trigger="cli")
    for result in results:
        detail = f"{result.duration_ms} ms" if result.status == "succeeded" else result.error
        click.echo(f"{result.view}: {result.status} ({detail})")
    if any(r.status == "failed" for r in results):
        raise click.ClickException("one or more views failed to refresh; see app.refresh_runs")


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--debug", is_flag=True, help="Turn on Dash's dev tools (they call out to the internet).")
def run_command(host: str, port: int, debug: bool) -> None:
    """Serve the dashboard for development."""
    from dashboard.app import create_app

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    app = create_app(settings)
    app.run(host=host, port=port, debug=debug, dev_tools_ui=debug, dev_tools_props_check=debug)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--applications", type=click.IntRange(min=1), default=200_000, show_default=True)
def demo_command(host: str, port: int, applications: int) -> None:
    """Start everything needed (embedded database, demo data, demo users) and serve on http://HOST:PORT."""
    from dashboard.app import create_app
    from dashboard.demo import prepare_demo

    try:
        settings = load_settings(demo=True)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    settings = settings.with_overrides(database_url=settings.database_url or database_url())
    for line in prepare_demo(settings, applications=applications):
        click.echo(line)
    app = create_app(settings)
    click.echo(f"Dashboard running on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, dev_tools_ui=False, dev_tools_props_check=False)
