"""Boundary rows loaded here, in a New York session: the dbt stores equal the SQL views row for row (UTC month
edges, a zero-revenue month, a month with no invoices, invoices without a placement)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from data.dbt import run_dbt
from data.engine import get_engine, psycopg_connection
from data.refresh import VIEWS
from tests.dbt.compare import sql_recompute_fixes, store_differences

NONE = dict.fromkeys(VIEWS, 0)


def load_boundary_rows(url: str) -> None:
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("set time zone 'America/New_York'")
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General'), (2, 'Lakeside')")
        conn.execute("insert into recruiting.placements (id, facility_id) values (1, 1), (2, 1)")
        # 23:30 on 31 January in New York is February in UTC; 18:59 is still January; 19:30 on 28 February is March.
        conn.execute(
            "insert into recruiting.applications (facility_id, channel, applied_at, hired_at, rejected_at) values"
            " (1, 'sms', '2026-01-31 23:30', '2026-02-10 23:30', null),"
            " (1, 'sms', '2026-01-31 18:59', null, null),"
            " (1, 'email', '2026-02-28 19:30', null, '2026-03-02 09:00'),"
            " (1, 'email', '2026-03-01 00:30', '2026-03-01 12:30', null)"
        )
        conn.execute(
            "insert into recruiting.compliance_checks (facility_id, passed, score, severity, checked_at) values"
            " (1, false, 12.5, 'critical', '2026-01-31 20:00'), (1, true, 99.25, null, '2026-01-15 10:00'),"
            " (2, false, 50, 'low', '2026-02-01 00:00')"
        )
        # Facility 1: January 100 (18:30 on 31 January in New York is still January in UTC), February 0 (19:30 is
        # February: a zero-revenue month), March 50, no invoices in April, May 80.01.
        # Facility 2: invoices without a placement.
        conn.execute(
            "insert into recruiting.invoices (placement_id, facility_id, amount, invoiced_at) values"
            " (1, 1, 60.00, '2026-01-05'), (2, 1, 40.00, '2026-01-31 18:30'),"
            " (1, 1, 0.00, '2026-01-31 19:30'), (1, 1, 50.00, '2026-03-10'), (2, 1, 80.01, '2026-05-10'),"
            " (null, 2, 10.00, '2026-03-10'), (null, 2, 5.01, '2026-03-11')"
        )
        conn.execute(
            "insert into recruiting.outreach (facility_id, channel, sent_at, responded_at) values"
            " (1, 'sms', '2026-04-30 22:00', '2026-05-01 09:00'), (1, 'sms', '2026-04-30 10:00', null),"
            " (1, 'referral', '2026-04-30 10:00', null)"
        )


@pytest.fixture(scope="module")
def boundary_url(make_database) -> str:
    url = make_database()
    load_boundary_rows(url)
    return url


def test_boundary_rows_equal_the_sql_views(boundary_url, monkeypatch):
    monkeypatch.setenv("PGTZ", "America/New_York")  # dbt's own sessions run in New York too
    engine = get_engine(boundary_url)
    run = run_dbt(boundary_url, ["run"])
    assert run.success, run.error
    assert store_differences(engine) == NONE
    assert sql_recompute_fixes(engine) == NONE
    with psycopg_connection(engine) as conn:
        pipeline = conn.execute("select month::text, applications, hired, rejected,"
                                " round(time_to_fill_days::numeric, 4)"
                                " from analytics.pipeline_kpis_materialized order by month").fetchall()
        revenue = conn.execute("select facility_id, month::text, invoices, placements, revenue, revenue_per_placement,"
                               " mom_growth from analytics.revenue_kpis_materialized order by 1, 2").fetchall()
        compliance = conn.execute("select facility_id, month::text, checks, violations_critical"
                                  " from analytics.compliance_kpis_materialized order by 1, 2").fetchall()
        outreach = conn.execute("select month::text, channel, sent, responded"
                                " from analytics.outreach_kpis_materialized order by 1, 2").fetchall()
        queued = conn.execute("select (select count(*) from analytics.pipeline_changes)"
                              " + (select count(*) from analytics.revenue_changes)").fetchone()[0]
    assert pipeline == [("2026-01-01", 1, 0, 0, None), ("2026-02-01", 1, 1, 0, Decimal("10.0000")),
                        ("2026-03-01", 2, 1, 1, Decimal("0.5000"))]
    assert revenue == [
        (1, "2026-01-01", 2, 2, Decimal("100.00"), Decimal("50.00"), None),
        (1, "2026-02-01", 1, 1, Decimal("0.00"), Decimal("0.00"), -1.0),
        (1, "2026-03-01", 1, 1, Decimal("50.00"), Decimal("50.00"), None),  # the month before earned nothing
        (1, "2026-05-01", 1, 1, Decimal("80.01"), Decimal("80.01"), None),  # no invoices in April
        (2, "2026-03-01", 2, 0, Decimal("15.01"), None, None),  # no placement invoiced
    ]
    assert compliance == [(1, "2026-01-01", 1, 0), (1, "2026-02-01", 1, 1), (2, "2026-02-01", 1, 0)]
    assert outreach == [("2026-04-01", "referral", 1, 0), ("2026-04-01", "sms", 1, 0), ("2026-05-01", "sms", 1, 1)]
    assert queued == 0, "the dbt build consumed the queues of captured changes"


def test_the_build_is_a_full_batch_and_live_refresh_goes_on_from_it(boundary_url):
    """What dbt wrote (hidden sums included) is what incremental batches build on."""
    from data.live import apply_changes, freshness

    engine = get_engine(boundary_url)
    kinds = {view: f.last_batch_kind for view, f in freshness(engine).items()}
    assert kinds == dict.fromkeys(VIEWS, "full")
    with psycopg_connection(engine) as conn:
        conn.execute("update recruiting.applications set hired_at = applied_at + interval '2 days'"
                     " where hired_at is null and rejected_at is null")
        conn.execute("delete from recruiting.compliance_checks where severity = 'low'")
    assert {r.status for r in apply_changes(engine, ["pipeline", "compliance"])} == {"applied"}
    assert store_differences(engine) == NONE
