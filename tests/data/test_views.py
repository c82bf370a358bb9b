"""Every column of every KPI store equals an independent pandas computation from the raw tables."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest

from data.engine import psycopg_connection
from data.queries import fetch_dataset


def raw(engine, sql: str) -> pd.DataFrame:
    with psycopg_connection(engine) as conn, conn.cursor() as cur:
        cur.execute(sql)
        columns = [c.name for c in cur.description]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns)


def utc_month(series: pd.Series) -> pd.Series:
    return (
        pd.to_datetime(series, utc=True)
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .dt.to_period("M")
        .dt.to_timestamp()
    )


def assert_matches(
    view: pd.DataFrame, expected: pd.DataFrame, keys: list[str], exact: list[str], approx: list[str]
):
    view = view.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert len(view) == len(expected) > 0
    for key in keys:
        assert list(view[key]) == list(expected[key]), key
    for column in exact:
        assert list(view[column]) == list(expected[column]), column
    for column in approx:
        got, want = view[column].astype(float).to_numpy(), expected[column].astype(float).to_numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want)), column
        mask = ~np.isnan(want)
        np.testing.assert_allclose(got[mask], want[mask], rtol=0, atol=1e-9, err_msg=column)


def test_pipeline_view_matches_raw(seeded_engine):
    apps = raw(seeded_engine, "select * from recruiting.applications")
    apps["month"] = utc_month(apps["applied_at"])
    apps["ttf"] = (apps["hired_at"] - apps["applied_at"]).dt.total_seconds() / 86400
    g = apps.groupby(["facility_id", "month"])
    expected = pd.DataFrame(
        {
            "applications": g.size(),
            "screened": g["screened_at"].count(),
            "interviewed": g["interviewed_at"].count(),
            "offered": g["offered_at"].count(),
            "hired": g["hired_at"].count(),
            "rejected": g["rejected_at"].count(),
            "time_to_fill_days": g["ttf"].mean(),
        }
    ).reset_index()
    expected["pending"] = expected["applications"] - expected["hired"] - expected["rejected"]
    expected["conversion_rate"] = expected["hired"] / expected["applications"]
    view = fetch_dataset(seeded_engine, "pipeline")
    assert_matches(
        view,
        expected,
        ["facility_id", "month"],
        ["applications", "screened", "interviewed", "offered", "hired", "rejected", "pending"],
        ["conversion_rate", "time_to_fill_days"],
    )
    assert view["time_to_fill_days"].isna().any(), "some facility-months have no hires in the test data"


def test_compliance_view_matches_raw(seeded_engine):
    checks = raw(seeded_engine, "select * from recruiting.compliance_checks")
    checks["month"] = utc_month(checks["checked_at"])
    checks["score"] = checks["score"].astype(float)
    g = checks.groupby(["facility_id", "month"])
    expected = pd.DataFrame(
        {
            "checks": g.size(),
            "passed": g["passed"].sum(),
            "avg_score": g["score"].mean(),
            **{
                f"violations_{s}": g["severity"].agg(lambda x, s=s: int((x == s).sum()))
                for s in ("low", "medium", "high", "critical")
            },
        }
    ).reset_index()
    expected["failed"] = expected["checks"] - expected["passed"]
    expected["compliance_rate"] = expected["passed"] / expected["checks"]
    view = fetch_dataset(seeded_engine, "compliance")
    assert_matches(
        view,
        expected,
        ["facility_id", "month"],
        [
            "checks",
            "passed",
            "failed",
            "violations_low",
            "violations_medium",
            "violations_high",
            "violations_critical",
        ],
        ["avg_score", "compliance_rate"],
    )
    assert (view["violations_critical"] > 0).any()


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_revenue_view_matches_raw_to_the_cent(seeded_engine):
    invoices = raw(seeded_engine, "select * from recruiting.invoices")
    invoices["month"] = utc_month(invoices["invoiced_at"])
    rows = []
    for (facility_id, month), grp in invoices.groupby(["facility_id", "month"]):
        total = sum(grp["amount"], Decimal(0))
        rows.append(
            {
                "facility_id": facility_id,
                "month": month,
                "invoices": len(grp),
                "placements": grp["placement_id"].nunique(),
                "revenue": total,
                "avg_invoice": cents(total / len(grp)),
                "revenue_per_placement": cents(total / grp["placement_id"].nunique()),
            }
        )
    expected = pd.DataFrame(rows)
    previous = expected.set_index(["facility_id", "month"])["revenue"]
    growth = []
    for row in expected.itertuples():
        prev = previous.get((row.facility_id, row.month - pd.DateOffset(months=1)))
        growth.append(float((row.revenue - prev) / prev) if prev not in (None, Decimal(0)) else np.nan)
    expected["mom_growth"] = growth
    view = fetch_dataset(seeded_engine, "revenue")
    assert all(isinstance(v, Decimal) for v in view["revenue"])
    assert_matches(
        view,
        expected,
        ["facility_id", "month"],
        ["invoices", "placements", "revenue", "avg_invoice", "revenue_per_placement"],
        ["mom_growth"],
    )


def test_outreach_view_matches_raw(seeded_engine):
    out = raw(seeded_engine, "select * from recruiting.outreach")
    out["month"] = utc_month(out["sent_at"])
    g = out.groupby(["facility_id", "month", "channel"])
    expected = pd.DataFrame(
        {
            "sent": g.size(),
            "responded": g["responded_at"].count(),
            "converted": g["converted_application_id"].count(),
        }
    ).reset_index()
    expected["response_rate"] = expected["responded"] / expected["sent"]
    expected["conversion_rate"] = expected["converted"] / expected["sent"]
    view = fetch_dataset(seeded_engine, "outreach")
    assert_matches(
        view,
        expected,
        ["facility_id", "month", "channel"],
        ["sent", "responded", "converted"],
        ["response_rate", "conversion_rate"],
    )


@pytest.mark.parametrize("dataset", ["pipeline", "compliance", "revenue", "outreach"])
def test_live_view_equals_materialized(seeded_engine, dataset):
    materialized = fetch_dataset(seeded_engine, dataset)
    live = fetch_dataset(seeded_engine, dataset, source="live")
    pd.testing.assert_frame_equal(materialized, live)


def test_month_is_the_utc_calendar_month_whatever_the_session_time_zone(empty_engine):
    with psycopg_connection(empty_engine) as conn:
        conn.execute("set time zone 'America/Los_Angeles'")
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'A')")
        # 2026-03-01 03:00 UTC is still February in Los Angeles; the KPI month must be March.
        conn.execute(
            "insert into recruiting.applications (facility_id, channel, applied_at)"
            " values (1, 'email', '2026-03-01 03:00:00+00')"
        )
        conn.execute("select analytics.refresh_pipeline_kpis()")
    view = fetch_dataset(empty_engine, "pipeline")
    assert list(view["month"]) == [pd.Timestamp("2026-03-01")]
