import psycopg
import pytest
from sqlalchemy.engine import make_url

from data.engine import get_engine, psycopg_connection
from data.migrations import MigrationError, checksum, migrate
from data.sqlfiles import migration_files


@pytest.fixture
def blank_engine(server_url):
    """A database with nothing in it, not even the migrations."""
    import uuid

    name = f"recruit_blank_{uuid.uuid4().hex[:8]}"
    libpq = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    engine = get_engine(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'drop database "{name}" with (force)')


def test_migrations_apply_to_an_empty_database_then_are_a_no_op(blank_engine):
    first = migrate(blank_engine)
    assert first.applied == [version for version, _ in migration_files()]
    second = migrate(blank_engine)
    assert second.applied == [] and second.already_applied == first.applied
    with psycopg_connection(blank_engine) as conn:
        stores = {
            r[0]
            for r in conn.execute(
                "select tablename from pg_tables where schemaname = 'analytics' and tablename like '%%_kpis_%%'"
            ).fetchall()
        }
        functions = {
            r[0]
            for r in conn.execute(
                "select proname from pg_proc where pronamespace = 'analytics'::regnamespace"
            ).fetchall()
        }
        recorded = conn.execute("select count(*), count(checksum) from public.schema_migrations").fetchone()
    # Since migration 006 the KPI stores are tables maintained in place, under the materialized views' names.
    assert stores == {f"{v}_kpis_materialized" for v in ("pipeline", "compliance", "revenue", "outreach")}
    assert {
        "refresh_pipeline_kpis",
        "refresh_compliance_kpis",
        "refresh_revenue_kpis",
        "refresh_outreach_kpis",
        "refresh_all_analytics",
    } <= functions
    assert recorded == (len(first.applied), len(first.applied))


def test_an_edited_applied_migration_is_refused(blank_engine):
    migrate(blank_engine)
    with psycopg_connection(blank_engine) as conn:
        conn.execute("update public.schema_migrations set checksum = 'edited' where version like '001%%'")
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        migrate(blank_engine)


def test_a_corrected_header_is_not_an_edit_but_a_changed_statement_is(blank_engine, monkeypatch):
    migrate(blank_engine)
    original = migration_files()
    (version, text), *rest = original
    body = text[text.index("\ncreate") + 1:]
    reworded = [(version, "-- 001: the header, reworded\n-- over two lines.\n" + body), *rest]
    monkeypatch.setattr("data.migrations.migration_files", lambda: reworded)
    assert migrate(blank_engine).applied == []
    changed = [(version, text.replace("create schema if not exists recruiting;", "create schema recruiting;")), *rest]
    monkeypatch.setattr("data.migrations.migration_files", lambda: changed)
    with pytest.raises(MigrationError, match="was edited after it was applied"):
        migrate(blank_engine)
    assert checksum(text) == checksum(reworded[0][1]) != checksum(changed[0][1])


def test_databases_migrated_with_whole_file_checksums_still_match(blank_engine):
    """Before headers were left out, the checksum covered the whole file (and the first three headers have been
    corrected since): such databases keep working without a repair."""
    import hashlib

    migrate(blank_engine)
    earlier = {
        "001_recruiting_schema": "ee17e08756ef89147a2b6b0467e1b43b2443cc5f7c5e7dc8b345a37be7405e80",
        "002_app_schema": "e6ad3c08755c204ffa45fd01726f45cd95ac24d383786901d8f71ab16e00ac16",
        "003_analytics_views": "cdef9d4d33c05661e2f38797b6628749d752090d2d622e3d94e8cc8a2ae75f6b",
    }
    with psycopg_connection(blank_engine) as conn:
        for version, text in migration_files():
            whole_file = earlier.get(version, hashlib.sha256(text.encode()).hexdigest())
            conn.execute("update public.schema_migrations set checksum = %s where version = %s", (whole_file, version))
    assert migrate(blank_engine).applied == []


def test_every_view_has_a_unique_index_on_its_grain(blank_engine):
    migrate(blank_engine)
    with psycopg_connection(blank_engine) as conn:
        rows = conn.execute(
            "select t.relname, pg_get_indexdef(i.indexrelid) from pg_index i join pg_class t on t.oid = i.indrelid"
            " where t.relnamespace = 'analytics'::regnamespace and i.indisunique"
        ).fetchall()
    found = {name: definition for name, definition in rows}
    assert "(facility_id, month, channel)" in found["outreach_kpis_materialized"]
    for view in ("pipeline", "compliance", "revenue"):
        assert "(facility_id, month)" in found[f"{view}_kpis_materialized"]


def test_every_foreign_key_of_the_event_tables_has_an_index_that_leads_with_it(blank_engine):
    """Deleting a referenced row makes PostgreSQL look for rows that point at it: without an index on the
    referencing column that is a scan of the whole table per deleted row (an application deleted at 10M
    applications scanned 30M outreach messages, seconds each, and bench/live.py's deletes never finished)."""
    migrate(blank_engine)
    with psycopg_connection(blank_engine) as conn:
        unindexed = conn.execute(
            "select c.conrelid::regclass::text, a.attname"
            " from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]"
            " where c.contype = 'f' and c.connamespace = 'recruiting'::regnamespace"
            "   and not exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1])"
            " order by 1, 2"
        ).fetchall()
    assert unindexed == []
