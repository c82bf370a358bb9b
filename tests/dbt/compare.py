"""Comparisons of the KPI stores with the SQL views, for the dbt tests."""

from __future__ import annotations

from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.refresh import VIEWS


def store_differences(engine: Engine) -> dict[str, int]:
    """Per view, rows in which the store differs from the SQL live view (every column the app reads, exactly)."""
    out = {}
    with psycopg_connection(engine) as conn:
        for view in VIEWS:
            columns = [r[0] for r in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped"
                " order by attnum", (f"analytics.{view}_kpis_live",)).fetchall()]
            cols = ", ".join(columns)
            out[view] = conn.execute(
                f"select count(*) from ((select {cols} from analytics.{view}_kpis_materialized"
                f" except all select {cols} from analytics.{view}_kpis_live)"
                f" union all (select {cols} from analytics.{view}_kpis_live"
                f" except all select {cols} from analytics.{view}_kpis_materialized)) d"
            ).fetchone()[0]
    return out


def sql_recompute_fixes(engine: Engine) -> dict[str, int]:
    """Per view, the store rows a SQL full recompute had to rewrite (hidden sums included: 0 means dbt wrote exactly
    what the SQL refresh writes)."""
    with psycopg_connection(engine) as conn:
        return {view: conn.execute("select groups from analytics.recompute(%s)", (view,)).fetchone()[0]
                for view in VIEWS}
