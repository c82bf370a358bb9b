"""`dashboard dbt build` on a seeded database: every dbt test passes and every store equals the SQL views."""

from __future__ import annotations

from click.testing import CliRunner

from dashboard.cli import main
from data.engine import get_engine, psycopg_connection
from data.refresh import VIEWS
from tests.dbt.compare import sql_recompute_fixes, store_differences

NONE = dict.fromkeys(VIEWS, 0)


def test_dbt_build_passes_every_test_and_equals_the_sql_views(dbt_seeded_url, monkeypatch):
    engine = get_engine(dbt_seeded_url)
    with psycopg_connection(engine) as conn:
        before = conn.execute("select coalesce(max(id), 0) from app.live_batches").fetchone()[0]
        # Break every store first, so the build must write: one row off, one row gone, one row that should not be.
        conn.execute("update analytics.pipeline_kpis_materialized set applications = applications + 1, "
                     "fill_seconds = fill_seconds + 1 where (facility_id, month) = (select facility_id, min(month) "
                     "from analytics.pipeline_kpis_materialized group by 1 order by 1 limit 1)")
        conn.execute("delete from analytics.revenue_kpis_materialized where ctid = (select min(ctid) from "
                     "analytics.revenue_kpis_materialized)")
        conn.execute("insert into analytics.outreach_kpis_materialized select facility_id, '1990-01-01', channel, "
                     "sent, responded, converted, response_rate, conversion_rate "
                     "from analytics.outreach_kpis_materialized limit 1")
    assert store_differences(engine) != NONE

    monkeypatch.setenv("DATABASE_URL", dbt_seeded_url)
    result = CliRunner().invoke(main, ["dbt", "build"])
    assert result.exit_code == 0, result.output
    assert "Completed successfully" in result.output
    assert "ERROR=0" in result.output and "PASS=" in result.output

    assert store_differences(engine) == NONE
    assert sql_recompute_fixes(engine) == NONE, "dbt writes the hidden sums the SQL refresh writes"
    with psycopg_connection(engine) as conn:
        kinds = dict(conn.execute("select relname, relkind::text from pg_class where relname like '%kpis_materialized'"
                                  ).fetchall())
        batches = conn.execute("select view, kind, groups from app.live_batches where id > %s order by id",
                               (before,)).fetchall()
    assert set(kinds.values()) == {"r"}, "the stores stay tables"
    dbt_batches = {view: groups for view, kind, groups in batches[:4] if kind == "full"}
    assert dbt_batches == {"pipeline": 1, "compliance": 0, "revenue": 1, "outreach": 1}


def test_a_missing_store_is_refused(make_database, monkeypatch):
    url = make_database()
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("drop table analytics.outreach_kpis_materialized cascade")
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["dbt", "run", "--select", "outreach_kpis"])
    assert result.exit_code == 1
    assert "run `dashboard migrate` first" in result.output


def test_a_materialized_view_store_is_rebuilt_beside_and_swapped(make_database, monkeypatch):
    """A database from before migration 006 has materialized views: dbt builds a new one and swaps the names,
    keeping the unique grain index and the grants."""
    url = make_database()
    engine = get_engine(url)
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
        conn.execute("drop table analytics.compliance_kpis_materialized cascade")
        conn.execute("create materialized view analytics.compliance_kpis_materialized as "
                     "select * from analytics.compliance_kpis_live")
        conn.execute("create unique index compliance_kpis_grain_idx on analytics.compliance_kpis_materialized "
                     "(facility_id, month)")
        conn.execute("grant select on analytics.compliance_kpis_materialized to public")
        conn.execute("insert into recruiting.compliance_checks (facility_id, passed, score, severity, checked_at) "
                     "values (1, true, 90, null, '2026-03-05'), (1, false, 40, 'high', '2026-03-06')")
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["dbt", "run", "--select", "compliance_kpis"])
    assert result.exit_code == 0, result.output
    with psycopg_connection(engine) as conn:
        assert conn.execute("select relkind::text from pg_class where relname = 'compliance_kpis_materialized'"
                            ).fetchone()[0] == "m"
        assert conn.execute("select indexname from pg_indexes where tablename = 'compliance_kpis_materialized'"
                            ).fetchall() == [("compliance_kpis_grain_idx",)]
        assert conn.execute("select has_table_privilege('public', 'analytics.compliance_kpis_materialized', "
                            "'select')").fetchone()[0]
        rows = conn.execute("select facility_id, month::text, checks, passed, violations_high "
                            "from analytics.compliance_kpis_materialized").fetchall()
        leftovers = conn.execute("select count(*) from pg_class where relname like '%dbt\\_%'").fetchone()[0]
    assert rows == [(1, "2026-03-01", 2, 1, 1)]
    assert leftovers == 0


def test_dbt_test_catches_a_bad_store(make_database, monkeypatch):
    url = make_database()
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
        conn.execute("insert into analytics.pipeline_kpis_materialized values"
                     " (1, '2026-01-01', 2, 0, 0, 0, 3, 0, -1, 1.5, 1, 0), (999, '2026-01-01', 1, 0, 0, 0, 0, 0, 1, 0,"
                     " null, 0)")
        conn.execute("drop index analytics.pipeline_kpis_grain_idx")
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["dbt", "test", "--select", "pipeline_kpis"])
    assert result.exit_code == 1
    failed = {line.split("Failure in test ")[1].split(" ")[0] for line in result.output.splitlines()
              if "Failure in test " in line}
    assert failed == {
        "between_zero_and_one_pipeline_kpis_conversion_rate",
        "non_negative_pipeline_kpis_pending",
        "relationships_pipeline_kpis_facility_id__id__source_recruiting_facilities_",
        "unique_grain_index_pipeline_kpis_facility_id__month",
    }
