"""The `dashboard` command (README.md, "Command line"): exit 0 on success, 1 on a refused operation, 2 on a usage
error."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import click

from auth.errors import UserError
from auth.tokens import (
    TOKEN_DEFAULT_LIFETIME,
    TOKEN_MAX_LIFETIME,
    TOKEN_MIN_LIFETIME,
    create_token,
    list_tokens,
    revoke_tokens,
    utc_minute,
)
from auth.users import ROLES, create_user, deactivate_user, list_users, require_user, set_facilities
from dashboard.cli_dbt import dbt_command
from dashboard.health import ServiceUnreachable, check_services
from dashboard.ports import PortUnavailable, check_port
from dashboard.settings import SettingsError, load_settings, parse_database_url
from data.cache import data_versions, database_namespace
from data.engine import get_engine
from data.jobs import RefreshJobs
from data.migrations import MigrationError, migrate
from data.queries import facilities as all_facilities
from data.refresh import VIEWS
from data.seed import MAX_FACILITIES, SeedConfig, SeedError, ensure_seedable, seed

log = logging.getLogger(__name__)
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"
_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


class ConfigError(click.ClickException):
    """A bad environment value: one line naming it, exit 2 (a usage error)."""

    exit_code = 2


def database_url() -> str:
    """DATABASE_URL when set, else the embedded server (started on demand)."""
    raw = os.environ.get("DATABASE_URL")
    if raw:
        try:
            return parse_database_url(raw)
        except SettingsError as exc:
            raise ConfigError(str(exc)) from None
    from data.embedded import embedded_data_dir, start_embedded

    click.echo(f"DATABASE_URL is not set: using the embedded PostgreSQL in {embedded_data_dir()}.", err=True)
    return start_embedded()


@click.group()
def main() -> None:
    """Healthcare-recruitment analytics dashboard.

    Start with `dashboard demo`. Without DATABASE_URL every command uses the embedded PostgreSQL (data in
    DASHBOARD_PGDATA, default ~/.local/share/recruit-dashboard/pgdata). Exit status: 0 done, 1 refused (with a
    one-line reason), 2 usage error.
    """
    try:
        settings = load_settings(demo=True)  # every variable checked up front (SECRET_KEY by the commands needing it)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    handler = logging.StreamHandler()
    handler.setFormatter((logging.Formatter if sys.stderr.isatty() else _PlainFormatter)(LOG_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler])


class _PlainFormatter(logging.Formatter):
    """Drops terminal colour codes (werkzeug colours its request lines) from logs that go to a file or a pipe."""

    def format(self, record: logging.LogRecord) -> str:
        return _ANSI_CODES.sub("", super().format(record))


def refresh_build() -> str:
    """How `refresh`, `seed` and `scheduler` build the stores: "dbt" with DBT_ENABLED=true, else "sql"."""
    try:
        return load_settings(demo=True).refresh_build
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


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
@click.option("--facilities", type=click.IntRange(min=1, max=MAX_FACILITIES), default=40, show_default=True)
@click.option("--months", type=click.IntRange(min=1, max=240), default=24, show_default=True)
@click.option("--seed", "seed_value", type=int, default=42, show_default=True)
@click.option("--reset", is_flag=True, help="Replace the data already in the database.")
def seed_command(applications: int, facilities: int, months: int, seed_value: int, reset: bool) -> None:
    """Generate demo data, then refresh the views.

    The data is the same for the same seed on the same day. A database that already holds data is refused unless
    --reset.
    """
    build = refresh_build()
    url = database_url()
    engine = get_engine(url)
    migrate(engine)
    config = SeedConfig(applications=applications, facilities=facilities, months=months, seed=seed_value)
    try:
        ensure_seedable(engine, reset=reset)
        with click.progressbar(length=config.work_units, label="seeding", file=sys.stderr) as bar:
            report = seed(engine, config, reset=reset, progress=lambda _step, n: bar.update(n))
    except SeedError as exc:
        raise click.ClickException(str(exc)) from None
    results = RefreshJobs(engine, on_success=_refreshed(url), build=build).run_now(["all"], trigger="cli")
    click.echo(
        f"seeded {report.facilities} facilities, {report.candidates} candidates, {report.applications} applications,"
        f" {report.compliance_checks} checks, {report.placements} placements, {report.invoices} invoices,"
        f" {report.outreach} outreach; refreshed {', '.join(r.view for r in results if r.status == 'succeeded')}"
    )


@main.command("refresh")
@click.option("--view", type=click.Choice([*VIEWS, "all"]), default="all", show_default=True)
def refresh_command(view: str) -> None:
    """Refresh the KPI views.

    Readers are never blocked, and each run is recorded in app.refresh_runs. With DBT_ENABLED=true the views are
    built by the dbt models (`dashboard dbt`).
    """
    build = refresh_build()
    url = database_url()
    jobs = RefreshJobs(get_engine(url), on_success=_refreshed(url), build=build)
    results = jobs.run_now([view], trigger="cli")
    for result in results:
        detail = f"{result.duration_ms} ms" if result.status == "succeeded" else result.error
        click.echo(f"{result.view}: {result.status} ({detail})")
    if any(r.status == "failed" for r in results):
        raise click.ClickException("one or more views failed to refresh; see app.refresh_runs")


@main.command("privacy-audit")
@click.option("--dataset", "datasets", type=click.Choice(VIEWS), multiple=True,
              help="Audit only this dataset (repeatable); default: all four.")
def privacy_audit_command(datasets: tuple[str, ...]) -> None:
    """Audit the published data for solvable cells.

    Searches every published row for suppressed counts an attacker could solve exactly.
    """
    from data.masking import MaskPolicy
    from data.privacy_runs import record_run, run_audit

    try:
        settings = load_settings(demo=True)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    if not settings.hipaa_mode:
        raise click.ClickException("HIPAA_MODE is off: nothing is suppressed, so there is nothing to audit")
    engine = get_engine(settings.database_url or database_url())
    policy = MaskPolicy(threshold=settings.hipaa_min_threshold)
    results = run_audit(engine, policy, datasets or VIEWS)
    for result in results:
        click.echo(
            f"{result.dataset}: {result.rows:,} rows, {result.rows_with_hidden_counts:,} with hidden counts"
            f" ({result.hidden_counts:,} counts); recoverable {len(result.recoverable)}, undecided"
            f" {len(result.undecided)}; fewest completions of a row: {result.fewest_completions or '-'};"
            f" hidden: {result.cells_hidden_share:.1%} of cells, {result.volume_hidden_share:.2%} of volume"
            f" ({result.seconds:.1f} s)"
        )
        for cell in (*result.recoverable, *result.undecided)[:5]:
            click.echo(f"  {'recoverable' if cell in result.recoverable else 'undecided'}: {cell.describe()}")
    run = record_run(engine, results, policy.threshold)
    if not run.ok:
        raise click.ClickException(f"the audit found suppressed counts that are not safe (k = {policy.threshold})")
    click.echo(f"ok: no suppressed count can be solved exactly (k = {policy.threshold}, {run.duration_ms} ms)")


@main.group("users")
def users_group() -> None:
    """Manage users and recruiters' facilities."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--facility", "facilities", type=click.IntRange(min=1), multiple=True, help="Repeat for each one.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def users_create_command(email: str, role: str, facilities: tuple[int, ...], password_stdin: bool) -> None:
    """Create a user.

    The password is read from the first line of stdin (--password-stdin), never from an argument: it would land in
    shell history. A recruiter needs at least one --facility (the ids are in `dashboard facilities list`).
    """
    if not password_stdin:
        raise click.UsageError("--password-stdin is required: pipe the password in on one line")
    password = sys.stdin.readline().rstrip("\r\n")
    with _refusals():
        user = create_user(get_engine(database_url()), email, password, role, facilities)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users_group.command("list")
def users_list_command() -> None:
    """List users.

    One line per user: email, role, active or inactive, facilities.
    """
    for user in list_users(get_engine(database_url())):
        facilities = ",".join(map(str, user.facility_ids)) or ("-" if user.role == "recruiter" else "all")
        status = "active" if user.active else "inactive"
        click.echo(f"{user.email}\t{user.role}\t{status}\tfacilities={facilities}")


@users_group.command("deactivate")
@click.option("--email", required=True)
def users_deactivate_command(email: str) -> None:
    """Deactivate a user.

    Their sessions and API tokens stop working at once.
    """
    with _refusals():
        user = deactivate_user(get_engine(database_url()), email)
    click.echo(f"deactivated {user.email}")


@users_group.command("set-facilities")
@click.option("--email", required=True)
@click.option("--facility", "facilities", type=click.IntRange(min=1), multiple=True, required=True)
def users_set_facilities_command(email: str, facilities: tuple[int, ...]) -> None:
    """Replace a recruiter's facilities."""
    with _refusals():
        user = set_facilities(get_engine(database_url()), email, facilities)
    click.echo(f"{user.email} now sees facilities {','.join(map(str, user.facility_ids))}")


@main.group("facilities")
def facilities_group() -> None:
    """List facilities."""


@facilities_group.command("list")
def facilities_list_command() -> None:
    """List facility ids and names.

    One line per facility, by id: the id (what `users create --facility` takes), a tab, the name.
    """
    facilities = all_facilities(get_engine(database_url())).sort_values("id")
    if facilities.empty:
        click.echo("no facilities yet (`dashboard seed` loads demo data)", err=True)
    for facility_id, name in facilities[["id", "name"]].itertuples(index=False):
        click.echo(f"{facility_id}\t{name}")


@main.group("tokens")
def tokens_group() -> None:
    """Manage API tokens.

    Clients send a token as `Authorization: Bearer <token>`.
    """


class Days(click.ParamType):
    """A lifetime in whole days written `<n>d` (`90d`), within [TOKEN_MIN_LIFETIME, TOKEN_MAX_LIFETIME]."""

    name = "days"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*d\s*", str(value))
        if match is None:
            self.fail(f"{value!r} is not a number of days like 90d", param, ctx)
        days = timedelta(days=int(match.group(1)))
        if not TOKEN_MIN_LIFETIME <= days <= TOKEN_MAX_LIFETIME:
            self.fail(f"{value!r} is not between {TOKEN_MIN_LIFETIME.days}d and {TOKEN_MAX_LIFETIME.days}d", param,
                      ctx)
        return days


@tokens_group.command("create")
@click.option("--email", required=True)
@click.option("--expires-in", type=Days(), default=f"{TOKEN_DEFAULT_LIFETIME.days}d", show_default=True,
              help=f"Lifetime in days, {TOKEN_MIN_LIFETIME.days}d to {TOKEN_MAX_LIFETIME.days}d.")
def tokens_create_command(email: str, expires_in: timedelta) -> None:
    """Create an API token for a user.

    The token is printed once, alone on the last line; only its hash is stored. It stops working when it expires
    (a request with it then gets 401 saying when), when revoked, or when its user is deactivated.
    """
    engine = get_engine(database_url())
    with _refusals():
        user = require_user(engine, email)
        if not user.active:
            raise UserError(f"{user.email} is deactivated")
        token = create_token(engine, user, expires_in=expires_in)
    expires = utc_minute(datetime.now().astimezone() + expires_in)
    click.echo(f"token for {user.email}, expires {expires} (shown once, store it now):", err=True)
    click.echo(token)


@tokens_group.command("list")
@click.option("--email", required=True)
def tokens_list_command(email: str) -> None:
    """List a user's tokens, never their secrets.

    A header line, then one tab-separated line per token, oldest first: id, created, last used, expires, revoked
    (times in UTC to the minute; `-` for never).
    """
    engine = get_engine(database_url())
    with _refusals():
        tokens = list_tokens(engine, require_user(engine, email))
    click.echo("id\tcreated\tlast_used\texpires\trevoked")
    for token in tokens:
        times = (token.created_at, token.last_used_at, token.expires_at, token.revoked_at)
        click.echo("\t".join([str(token.id), *(utc_minute(t) if t is not None else "-" for t in times)]))


@tokens_group.command("revoke")
@click.option("--email", required=True)
def tokens_revoke_command(email: str) -> None:
    """Revoke every token of a user."""
    engine = get_engine(database_url())
    with _refusals():
        revoked = revoke_tokens(engine, require_user(engine, email))
    click.echo(f"revoked {revoked} token(s)")


@contextmanager
def _refusals() -> Iterator[None]:
    """A refused user or token operation exits 1 with its one-line reason."""
    try:
        yield
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


def _announcer(url: str) -> Callable[[dict[str, tuple[int, ...] | None]], None]:
    """Tells every web process on this database and REDIS_URL which views (and facilities) changed: bumps their
    data versions (no-op without Redis: web processes then see the change after their cache TTL)."""

    def announce(changes: dict[str, tuple[int, ...] | None]) -> None:
        redis_url = os.environ.get("REDIS_URL")
        if redis_url:
            versions = data_versions(redis_url, database_namespace(url))
            for view, facility_ids in changes.items():
                versions.bump(view, facility_ids)

    return announce


def _refreshed(url: str) -> Callable[[list[str]], None]:
    """The announcement after a full refresh of `views` (every facility may have changed)."""
    announce = _announcer(url)
    return lambda views: announce(dict.fromkeys(views))


@main.command("scheduler")
def scheduler_command() -> None:
    """Run the refresh scheduler and live refresh alone.

    It runs in the foreground, for the Procfile's scheduler: line; web processes then set SCHEDULER_ENABLED=false.
    """
    from dashboard.scheduler import build_scheduler, start_live_refresh

    try:
        settings = load_settings(demo=True)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from None
    url = settings.database_url or database_url()
    engine = get_engine(url)
    announce = _announcer(url)
    jobs = RefreshJobs(engine, on_success=lambda views: announce(dict.fromkeys(views)), build=settings.refresh_build)
    click.echo(f"scheduler: all views every {settings.analytics_refresh_interval_ms // 1000} s, "
               f"pipeline every {settings.pipeline_refresh_interval_ms // 1000} s"
               + (", built with dbt (DBT_ENABLED)" if settings.dbt_enabled else ""))
    live = start_live_refresh(engine, settings, lambda batch: announce(batch.changed_facilities))
    click.echo(f"live refresh: on, batches after {settings.live_refresh_debounce_ms} ms, sweep every "
               f"{settings.live_refresh_sweep_ms // 1000} s" if live else "live refresh: off (LIVE_REFRESH=false)")
    try:
        build_scheduler(jobs, settings, blocking=True).start()
    finally:
        if live is not None:
            live.stop()


main.add_command(dbt_command)


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
        raise ConfigError(str(exc)) from None
    try:
        check_port(host, port, command="run")
        check_services(settings.database_url, settings.redis_url)
    except (PortUnavailable, ServiceUnreachable) as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings)
    app.run(host=host, port=port, debug=debug, dev_tools_ui=debug, dev_tools_props_check=debug)


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8050, show_default=True)
@click.option("--applications", type=click.IntRange(min=1), default=200_000, show_default=True,
              help="How much demo data the first start loads.")
@click.option("--stop", is_flag=True, help="Stop an embedded PostgreSQL left running, then exit.")
def demo_command(host: str, port: int, applications: int, stop: bool) -> None:
    """Run the dashboard with demo data and demo users.

    Starts the embedded PostgreSQL unless DATABASE_URL is set (data in DASHBOARD_PGDATA, default
    ~/.local/share/recruit-dashboard/pgdata, about 450 MB with the default demo data), applies the migrations, loads
    demo data on the first start, refreshes the views, creates the demo users and serves on http://HOST:PORT. Ctrl+C
    stops the dashboard and the embedded PostgreSQL; --stop stops one left running (after a kill -9, say).
    """
    from dashboard.demo import run_demo, stop_demo

    if stop:
        stop_demo()
    else:
        run_demo(host, port, applications=applications)
