"""`dashboard migrate | seed | refresh` through click: exit 0 done, 1 refused, 2 usage."""

from __future__ import annotations

from click.testing import CliRunner

from dashboard.cli import main
from data.engine import get_engine, psycopg_connection


def invoke(url: str, *args: str):
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url, "REDIS_URL": ""})


def test_migrate_seed_refresh_and_their_refusals(make_database):
    url = make_database()
    assert invoke(url, "migrate").exit_code == 0
    assert "nothing to apply" in invoke(url, "migrate").output
    seeded = invoke(url, "seed", "--applications", "400", "--facilities", "5", "--months", "6")
    assert seeded.exit_code == 0, seeded.output
    assert "400 applications" in seeded.output and "refreshed pipeline, compliance, revenue, outreach" in seeded.output
    refused = invoke(url, "seed", "--applications", "400")
    assert refused.exit_code == 1 and "already holds data" in refused.output
    assert "seeding" not in refused.output  # refused before it starts, not after announcing it
    assert invoke(url, "seed", "--applications", "0").exit_code == 2
    assert invoke(url, "refresh", "--view", "payroll").exit_code == 2
    refreshed = invoke(url, "refresh", "--view", "revenue")
    assert refreshed.exit_code == 0 and "revenue: succeeded" in refreshed.output
    with psycopg_connection(get_engine(url)) as conn:
        triggers = conn.execute("select distinct trigger from app.refresh_runs").fetchall()
    assert triggers == [("cli",)]
    get_engine(url).dispose()  # the whole suite shares the server's max_connections


def test_a_bad_database_url_is_a_usage_error():
    result = CliRunner().invoke(main, ["migrate"], env={"DATABASE_URL": "mysql://x"})
    assert result.exit_code == 2 and "DATABASE_URL must start with" in result.output


def test_facilities_list_prints_each_id_and_name_by_id(make_database):
    url = make_database()
    empty = invoke(url, "facilities", "list")
    assert empty.exit_code == 0 and empty.stdout == "" and "no facilities yet" in empty.stderr
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (2, 'Bayfront Medical Center'),"
                     " (10, 'Ashford Rural Clinic'), (1, 'Summit General Hospital')")
    listed = invoke(url, "facilities", "list")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines() == [
        "1\tSummit General Hospital", "2\tBayfront Medical Center", "10\tAshford Rural Clinic",
    ]
    get_engine(url).dispose()
