"""DBT_ENABLED: the setting, its conflict with live refresh, the install hint without the extra, the profile."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import data.dbt
from dashboard.cli import main
from dashboard.settings import SettingsError, check_dbt, load_settings
from data.dbt import DbtMissing, profile_environment
from data.engine import get_engine
from data.jobs import RefreshJobs

HINT = "pip install -e '.[dbt]'"


def test_dbt_enabled_turns_live_refresh_off_by_default():
    settings = load_settings({"SECRET_KEY": "x", "DBT_ENABLED": "true"})
    assert (settings.dbt_enabled, settings.live_refresh, settings.refresh_build) == (True, False, "dbt")
    default = load_settings({"SECRET_KEY": "x"})
    assert (default.dbt_enabled, default.live_refresh, default.refresh_build) == (False, True, "sql")
    with pytest.raises(SettingsError, match="LIVE_REFRESH=false"):
        load_settings({"SECRET_KEY": "x", "DBT_ENABLED": "true", "LIVE_REFRESH": "true"})
    with pytest.raises(SettingsError, match="DBT_ENABLED must be one of"):
        load_settings({"SECRET_KEY": "x", "DBT_ENABLED": "maybe"})


def test_without_the_extra_every_entry_point_says_how_to_install_it(monkeypatch, scratch_url):
    monkeypatch.setattr(data.dbt, "dbt_available", lambda: False)
    monkeypatch.setattr("dashboard.cli_dbt.dbt_available", lambda: False)
    with pytest.raises(SettingsError, match=HINT.replace("[", r"\[").replace(".", r"\.")):
        load_settings({"SECRET_KEY": "x", "DBT_ENABLED": "true"})
    with pytest.raises(SettingsError, match="pip install"):
        check_dbt(True, False)
    with pytest.raises(DbtMissing, match="pip install"):
        RefreshJobs(get_engine(scratch_url), on_success=lambda views: None, build="dbt")
    runner = CliRunner()
    result = runner.invoke(main, ["dbt", "build"])
    assert result.exit_code == 1 and HINT in result.output
    monkeypatch.setenv("DBT_ENABLED", "true")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    result = runner.invoke(main, ["refresh"])
    assert result.exit_code == 2 and HINT in result.output


def test_the_profile_comes_from_database_url():
    env = profile_environment("postgres://ann:s%40cret@db.example:6543/recruit?sslmode=require")
    assert env == {"RECRUIT_DBT_HOST": "db.example", "RECRUIT_DBT_PORT": "6543", "RECRUIT_DBT_USER": "ann",
                   "RECRUIT_DBT_PASSWORD": "s@cret", "RECRUIT_DBT_DBNAME": "recruit", "RECRUIT_DBT_THREADS": "2",
                   "RECRUIT_DBT_SSLMODE": "require"}
    # The embedded server's URL: a Unix socket folder as ?host=.
    embedded = profile_environment("postgresql+psycopg://postgres:@/postgres?host=/srv/pgdata")
    assert (embedded["RECRUIT_DBT_HOST"], embedded["RECRUIT_DBT_DBNAME"]) == ("/srv/pgdata", "postgres")


def test_dbt_docs_writes_the_static_site_and_says_where(scratch_url, monkeypatch, dbt_state):
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    result = CliRunner().invoke(main, ["dbt", "docs"])
    assert result.exit_code == 0, result.output
    page = dbt_state / "docs" / "static_index.html"
    assert f"open {page}" in result.output
    html = page.read_text(encoding="utf-8")
    assert "mean over hired applications of (hired_at" in html and "pipeline_kpis" in html


def test_dbt_usage_errors_exit_2(scratch_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    result = CliRunner().invoke(main, ["dbt", "run", "--no-such-flag"])
    assert result.exit_code == 2


def test_the_apps_refresh_jobs_build_with_dbt(scratch_url):
    from flask import Flask

    from dashboard.extensions import init_services
    from dashboard.settings import Settings

    url = scratch_url
    bound = init_services(Flask(__name__), Settings(database_url=url, dbt_enabled=True, live_refresh=False,
                                                    scheduler_enabled=False, demo=True))
    assert bound.jobs.build == "dbt" and bound.live is None
    with pytest.raises(SettingsError, match="cannot both be on"):
        init_services(Flask(__name__), Settings(database_url=url, dbt_enabled=True, live_refresh=True,
                                                scheduler_enabled=False, demo=True))
    bound.jobs.shutdown()


def test_a_unix_socket_url_works_as_the_embedded_servers_does(scratch_url):
    """The embedded server (`dashboard demo`) is reached through a Unix socket folder (`?host=/dir`)."""
    from sqlalchemy.engine import make_url

    from data.dbt import run_dbt
    from data.engine import psycopg_connection

    with psycopg_connection(get_engine(scratch_url)) as conn:
        folders = [f.strip() for f in conn.execute("show unix_socket_directories").fetchone()[0].split(",")]
    if not folders or not folders[0]:
        pytest.skip("this server listens on no Unix socket")
    url = make_url(scratch_url)
    socket_url = f"postgresql://{url.username}@/{url.database}?host={folders[0]}&port={url.port or 5432}"
    run = run_dbt(socket_url, ["debug"], quiet=True)
    assert run.success, run.error
