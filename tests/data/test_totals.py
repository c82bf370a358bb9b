"""Tests for data/totals.py: totals only from published cells, each saying what it left out (the contract of
data/contract.py; the kpis dataset of docs/KPIS.md)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.contract import ROWS, Shown, Status, bounds, detail_columns, shown, status
from data.masking import SUPPRESSED, MaskPolicy, mask
from data.specs import COMPLIANCE, DATASETS, OUTREACH, PIPELINE, REVENUE, Aggregation, DatasetSpec
from data.totals import (
    EXCLUDED_CELLS,
    KPI_FIELDS,
    PARTIAL,
    _group_codes,
    aggregate_published,
    is_rate,
    kpi_totals,
    row_state,
)

K5 = MaskPolicy(threshold=5)
MONTHS = [pd.Timestamp(2024, m, 1) for m in range(1, 8)]
CENTS = Decimal("0.01")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- Frame builders: consistent rows with the data layer's dtypes


def pipeline_row(f: int, m: int, hired: int, rejected: int, pending: int, ttf: float = 20.0) -> dict[str, Any]:
    applications = hired + rejected + pending
    return {
        "facility_id": f,
        "month": MONTHS[m],
        "applications": applications,
        "screened": applications,
        "interviewed": applications,
        "offered": applications,
        "hired": hired,
        "rejected": rejected,
        "pending": pending,
        "conversion_rate": hired / applications,
        "time_to_fill_days": ttf if hired else math.nan,
    }


def compliance_row(f: int, m: int, passed: int, levels: tuple[int, int, int, int], score: float = 90.0) -> dict:
    failed = sum(levels)
    checks = passed + failed
    return {
        "facility_id": f,
        "month": MONTHS[m],
        "checks": checks,
        "passed": passed,
        "failed": failed,
        "violations_low": levels[0],
        "violations_medium": levels[1],
        "violations_high": levels[2],
        "violations_critical": levels[3],
        "avg_score": score,
        "compliance_rate": passed / checks,
    }


def revenue_row(f: int, m: int, placements: int, invoices: int, revenue: Decimal) -> dict[str, Any]:
    return {
        "facility_id": f,
        "month": MONTHS[m],
        "invoices": invoices,
        "placements": placements,
        "revenue": revenue,
        "avg_invoice": (revenue / invoices).quantize(CENTS),
        "revenue_per_placement": (revenue / placements).quantize(CENTS) if placements else None,
        "mom_growth": math.nan,
    }


def outreach_row(f: int, m: int, channel: str, sent: int, responded: int, converted: int) -> dict[str, Any]:
    return {
        "facility_id": f,
        "month": MONTHS[m],
        "channel": channel,
        "sent": sent,
        "responded": responded,
        "converted": converted,
        "response_rate": responded / sent,
        "conversion_rate": converted / sent,
    }


BUILDERS = {
    "pipeline": pipeline_row,
    "compliance": compliance_row,
    "revenue": revenue_row,
    "outreach": outreach_row,
}


def with_growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {(r["facility_id"], r["month"]): r for r in rows}
    for r in rows:
        prev = by_key.get((r["facility_id"], r["month"] - pd.DateOffset(months=1)))
        ok = prev is not None and prev["revenue"] != 0
        r["mom_growth"] = float((r["revenue"] - prev["revenue"]) / prev["revenue"]) if ok else math.nan
    return rows


def frame(spec: DatasetSpec, rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=list(spec.columns))
    df["facility_id"] = df["facility_id"].astype("int64")
    df["month"] = pd.to_datetime(df["month"]).astype("datetime64[ns]")
    if "channel" in df:
        df["channel"] = df["channel"].astype(object)
    for name in spec.count_columns:
        df[name] = df[name].astype("int64")
    for name in (*spec.derived_columns, *spec.growth_columns):
        df[name] = df[name].astype("float64")
    for name in spec.money_columns:
        df[name] = pd.Series(list(df[name]), dtype=object)
    return df


def masked(spec: DatasetSpec, rows: list[dict[str, Any]], policy: MaskPolicy = K5) -> pd.DataFrame:
    if spec.growth_columns:
        rows = with_growth(rows)
    return mask(frame(spec, rows), spec, policy).frame


# --- aggregate_published


def pipeline_example() -> pd.DataFrame:
    return masked(
        PIPELINE,
        [
            pipeline_row(1, 0, hired=3, rejected=7, pending=10),  # every part and both rates hidden
            pipeline_row(2, 0, hired=10, rejected=20, pending=20, ttf=30.0),
            pipeline_row(1, 1, hired=6, rejected=0, pending=6, ttf=10.0),
        ],
    )


def test_aggregate_by_month_sums_published_cells_and_recomputes_rates_on_the_same_rows() -> None:
    out = aggregate_published(pipeline_example(), ["month"], PIPELINE)
    assert out["month"].tolist() == MONTHS[:2]
    jan = out.iloc[0]
    assert jan["applications"] == 70 and jan["hired"] == 10 and jan["pending"] == 20
    assert jan["rejected"] == 20  # facility 1's hidden rejections are left out, not estimated
    assert jan["conversion_rate"] == 10 / 50  # not 10 / 70: facility 1's applications have no published hires
    assert jan["time_to_fill_days"] == 30.0
    assert jan[EXCLUDED_CELLS] == 4 and jan[PARTIAL]  # hired, rejected, pending, time_to_fill_days of facility 1
    feb = out.iloc[1]
    assert feb["hired"] == 6 and feb["conversion_rate"] == 0.5
    assert feb[EXCLUDED_CELLS] == 0 and not feb[PARTIAL]
    assert str(out["hired"].dtype) == "Int64" and out["conversion_rate"].dtype == "float64"


def test_aggregate_by_facility_and_over_everything() -> None:
    df = pipeline_example()
    by_facility = aggregate_published(df, ["facility_id"], PIPELINE)
    assert by_facility["facility_id"].tolist() == [1, 2]
    assert by_facility["hired"].tolist() == [6, 10]
    assert by_facility["time_to_fill_days"].tolist() == [10.0, 30.0]
    total = aggregate_published(df, [], PIPELINE)
    assert len(total) == 1
    assert total.loc[0, "hired"] == 16 and total.loc[0, "conversion_rate"] == 16 / 62
    assert total.loc[0, "time_to_fill_days"] == (30 * 10 + 10 * 6) / 16
    assert "month" not in total.columns


def test_aggregate_group_with_nothing_published_is_suppressed() -> None:
    df = masked(PIPELINE, [pipeline_row(1, 0, hired=1, rejected=1, pending=1)])
    out = aggregate_published(df, ["month"], PIPELINE)
    row = out.iloc[0]
    assert row["hired"] is pd.NA and math.isnan(row["conversion_rate"]) and math.isnan(row["time_to_fill_days"])
    assert row[EXCLUDED_CELLS] == 8  # all seven counts and time_to_fill_days; rates are read from the counts
    assert row["hired__status"] == "suppressed" and row["conversion_rate__status"] == "suppressed"
    assert shown(out, "hired", rate=False).tolist() == ["suppressed"]


def test_undefined_is_not_suppressed() -> None:
    """Issue 11: two facilities, one month, no hires, one facility's rejections hidden: time to fill is
    undefined (no hire to measure), not suppressed."""
    df = masked(PIPELINE, [pipeline_row(1, 0, hired=0, rejected=10, pending=10),
                           pipeline_row(2, 0, hired=0, rejected=3, pending=20)])
    assert df[SUPPRESSED].tolist()[1] == ["rejected", "pending"]
    out = aggregate_published(df, ["month"], PIPELINE)
    assert status(out, "time_to_fill_days").tolist() == ["undefined"]
    assert status(out, "rejected").tolist() == ["published"] and out.loc[0, "rejected__excluded"] == 1
    assert shown(out, "time_to_fill_days", rate=False).tolist() == ["undefined"]


def test_growth_in_a_first_month_is_undefined_not_suppressed() -> None:
    df = masked(REVENUE, [revenue_row(1, 0, placements=6, invoices=7, revenue=Decimal("600.20")),
                          revenue_row(1, 1, placements=3, invoices=9, revenue=Decimal("300.10"))])
    out = aggregate_published(df, ["month"], REVENUE)
    assert status(out, "mom_growth").tolist() == ["undefined", "suppressed"]
    assert status(aggregate_published(df, ["facility_id"], REVENUE), "mom_growth").tolist() == ["undefined"]


def test_a_facility_whose_small_failure_months_are_hidden_does_not_look_spotless() -> None:
    """Issue 11: adding only published cells, a facility's months with 1-4 failures drop out and its rate
    reads 100%. The figure says it is partial and gives the range the published data allows instead."""
    months = [(10, (1, 1, 0, 0)), (12, (0, 0, 0, 0)), (5, (2, 1, 0, 0)), (9, (1, 0, 1, 0)), (20, (0, 0, 0, 0))]
    rows = [compliance_row(1, m, passed, levels) for m, (passed, levels) in enumerate(months)]
    out = aggregate_published(masked(COMPLIANCE, rows), ["facility_id"], COMPLIANCE)
    truth = 56 / 63
    assert out.loc[0, "compliance_rate"] == 1.0  # the published months alone: every check passed
    assert out.loc[0, "compliance_rate__status"] == "published" and out.loc[0, "compliance_rate__excluded"] == 3
    low, high = bounds(out, "compliance_rate")
    assert low[0] <= truth <= high[0] and high[0] - low[0] > 0.02
    assert shown(out, "compliance_rate", rate=True).tolist() == [Shown.RANGE]
    assert out.loc[0, "compliance_rate__used"] == 2 and out.loc[0, ROWS] == 5
    assert out.loc[0, "compliance_rate__left_out"] == pytest.approx(31 / 63)


def test_a_hidden_part_of_a_group_may_be_large_so_the_sum_is_a_range() -> None:
    rows = [pipeline_row(f, 0, hired=200, rejected=300, pending=500) for f in range(1, 8)]
    rows.append(pipeline_row(8, 0, hired=2, rejected=100, pending=200))
    out = aggregate_published(masked(PIPELINE, rows), [], PIPELINE, threshold=5)
    assert out.loc[0, "hired__excluded"] == 1
    # Facility 8's hires are hidden with its rejections and pending: any of them may be the small one, so its
    # hires may be anything from 1 to 300 (the applications less one each for the other two parts).
    assert out.loc[0, "hired__low"] == 1401 and out.loc[0, "hired__high"] == 1400 + 300
    assert shown(out, "hired", rate=False).tolist() == [Shown.RANGE]


def test_a_large_total_missing_a_few_small_ungrouped_cells_is_a_partial_point() -> None:
    rows = [outreach_row(f, 0, "email", 500, 200, 40) for f in range(1, 8)] + [outreach_row(8, 0, "email", 3, 1, 0)]
    out = aggregate_published(masked(OUTREACH, rows), [], OUTREACH, threshold=5)
    # Outreach counts belong to no group, so a hidden one was below k: 3500 plus 1 to 4 more, within 2%.
    assert out.loc[0, "sent__low"] == 3501 and out.loc[0, "sent__high"] == 3504
    assert shown(out, "sent", rate=False).tolist() == [Shown.POINT]
    assert shown(out, "response_rate", rate=True).tolist() == [Shown.POINT]
    unbounded = aggregate_published(masked(OUTREACH, rows), [], OUTREACH)
    assert unbounded.loc[0, "sent__high"] == math.inf


def test_aggregate_money_is_exact_and_money_ratios_round_to_cents() -> None:
    df = masked(
        REVENUE,
        [
            revenue_row(1, 0, placements=3, invoices=9, revenue=Decimal("300.10")),
            revenue_row(1, 1, placements=6, invoices=7, revenue=Decimal("600.20")),
            revenue_row(2, 1, placements=7, invoices=8, revenue=Decimal("0.10")),
            revenue_row(2, 2, placements=9, invoices=9, revenue=Decimal("0.20")),
        ],
    )
    out = aggregate_published(df, ["month"], REVENUE)
    assert out["revenue"].tolist() == [None, Decimal("600.30"), Decimal("0.20")]
    assert out["avg_invoice"].tolist() == [None, Decimal("40.02"), Decimal("0.02")]
    assert out["revenue_per_placement"].tolist()[1] == (Decimal("600.30") / 13).quantize(CENTS)
    # Growth by month over facilities with both months published: March compares facility 2 only.
    assert math.isnan(out["mom_growth"][0]) and math.isnan(out["mom_growth"][1])
    assert out["mom_growth"][2] == 1.0
    assert aggregate_published(df, ["facility_id"], REVENUE)["mom_growth"].isna().all()


def test_aggregate_selected_columns_count_the_cells_they_read() -> None:
    df = masked(OUTREACH, [outreach_row(1, 0, "email", 40, 12, 3), outreach_row(1, 0, "sms", 10, 0, 0)])
    out = aggregate_published(df, [], OUTREACH, columns=["sent", "conversion_rate"])
    assert list(out.columns) == ["sent", *detail_columns("sent"), "conversion_rate",
                                 *detail_columns("conversion_rate"), ROWS, EXCLUDED_CELLS, PARTIAL]
    assert out.loc[0, "conversion_rate"] == 0.0 and out.loc[0, EXCLUDED_CELLS] == 1
    with pytest.raises(ValueError, match="cannot be aggregated"):
        aggregate_published(df, [], OUTREACH, columns=["channel"])


def test_aggregate_refuses_an_unmasked_frame() -> None:
    raw = frame(PIPELINE, [pipeline_row(1, 0, hired=1, rejected=1, pending=1)])
    with pytest.raises(ValueError, match="masked"):
        aggregate_published(raw, [], PIPELINE)
    with pytest.raises(ValueError, match="masked"):
        kpi_totals({"pipeline": raw})


def test_aggregate_of_an_empty_frame() -> None:
    empty = masked(PIPELINE, [])
    assert len(aggregate_published(empty, ["month"], PIPELINE)) == 0
    total = aggregate_published(empty, [], PIPELINE)
    assert total.loc[0, "hired"] is pd.NA and total.loc[0, EXCLUDED_CELLS] == 0 and not total.loc[0, PARTIAL]
    assert total.loc[0, "hired__status"] == "undefined" and total.loc[0, ROWS] == 0


# --- kpi_totals


def test_kpi_totals_example() -> None:
    frames = {
        "pipeline": pipeline_example(),
        "compliance": masked(
            COMPLIANCE, [compliance_row(1, 0, 33, (2, 5, 0, 0)), compliance_row(2, 0, 2, (10, 28, 0, 0))]
        ),
        "revenue": mask(
            frame(
                REVENUE,
                with_growth(
                    [
                        revenue_row(1, 0, placements=3, invoices=9, revenue=Decimal("300.10")),
                        revenue_row(1, 1, placements=6, invoices=7, revenue=Decimal("600.20")),
                        revenue_row(2, 1, placements=7, invoices=8, revenue=Decimal("0.10")),
                    ]
                ),
            ),
            REVENUE,
            K5,
        ),  # a MaskResult is accepted as well as its frame
        "outreach": masked(OUTREACH, [outreach_row(1, 0, "email", 40, 12, 3), outreach_row(1, 0, "sms", 10, 0, 0)]),
    }
    row = kpi_totals(frames)
    details = row.pop("details")
    assert row == {
        "applications": 82,
        "hired": 16,
        "hire_rate": 16 / 62,
        "time_to_fill_days": 22.5,
        "checks": 80,
        "passed": 33,
        "compliance_rate": 33 / 40,
        "revenue": Decimal("600.30"),
        "placements": 13,
        "sent": 50,
        "responded": 12,
        "response_rate": 12 / 50,
        "outreach_conversion_rate": 0.0,
        "partial": True,
        "excluded_cells": 6,  # pipeline hired + time to fill, passed, revenue + placements, converted
    }
    assert details["hired"]["status"] == "published" and details["hired"]["excluded_cells"] == 1
    assert details["compliance_rate"]["shown"] == "range" and details["compliance_rate"]["left_out"] == 0.5
    assert details["outreach_conversion_rate"]["low"] == 0.02  # the hidden conversions are at least 1 of 50
    assert details["sent"]["shown"] == "point"


def test_kpi_totals_of_missing_datasets_are_null_and_types_are_plain() -> None:
    row = kpi_totals({"pipeline": pipeline_example()})
    assert list(row) == [*KPI_FIELDS, "partial", "excluded_cells", "details"]
    assert row["checks"] is None and row["revenue"] is None and row["response_rate"] is None
    assert row["details"]["checks"]["status"] == "undefined"
    assert type(row["applications"]) is int and type(row["hire_rate"]) is float
    with pytest.raises(ValueError, match="unknown datasets"):
        kpi_totals({"kpis": pipeline_example()})
    empty = kpi_totals({})
    assert {k: empty[k] for k in (*KPI_FIELDS, "partial", "excluded_cells")} == {
        **dict.fromkeys(KPI_FIELDS), "partial": False, "excluded_cells": 0}


# --- Properties

counts_mixed = st.one_of(st.integers(0, 12), st.integers(0, 12), st.integers(0, 200))


@st.composite
def rows_of(draw: st.DrawFn, name: str, f: int, m: int, channel: str) -> dict[str, Any]:
    if name == "pipeline":
        parts = [draw(counts_mixed) for _ in range(3)]
        parts[2] = parts[2] or (0 if sum(parts) else 1)
        return pipeline_row(f, m, *parts, ttf=draw(st.floats(0.5, 90)))
    if name == "compliance":
        levels = tuple(draw(counts_mixed) for _ in range(4))
        passed = draw(counts_mixed) or (0 if sum(levels) else 1)
        return compliance_row(f, m, passed, levels, score=draw(st.floats(0, 100)))  # type: ignore[arg-type]
    if name == "revenue":
        placements = draw(counts_mixed)
        invoices = max(1, placements + draw(st.integers(0, 5)))
        cents = draw(st.one_of(st.just(0), st.integers(1, 10**8)))
        return revenue_row(f, m, placements, invoices, Decimal(cents) / 100)
    sent = max(1, draw(counts_mixed))
    responded = draw(st.integers(0, sent))
    return outreach_row(f, m, channel, sent, responded, draw(st.integers(0, responded)))


@st.composite
def masked_tables(draw: st.DrawFn, name: str) -> pd.DataFrame:
    return draw(raw_and_masked(name))[1]


@st.composite
def raw_and_masked(draw: st.DrawFn, name: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    spec = DATASETS[name]
    channels = ("email", "sms") if "channel" in spec.grain else ("email",)
    keys = draw(
        st.lists(
            st.tuples(st.integers(1, 4), st.integers(0, len(MONTHS) - 1), st.sampled_from(channels)),
            max_size=14,
            unique=True,
        )
    )
    rows = [draw(rows_of(name, f, m, c)) for f, m, c in keys]
    k = draw(st.integers(5, 15))
    if spec.growth_columns:
        rows = with_growth(rows)
    return frame(spec, rows), masked(spec, rows, MaskPolicy(threshold=k)), k


def reference_aggregate(df: pd.DataFrame, by: list[str], spec: DatasetSpec) -> list[dict[str, Any]]:
    """The totals rules written out group by group in plain Python, reading published cells only."""
    records = df.to_dict("records")
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(records):
        groups.setdefault(tuple(r[b] for b in by), []).append(i)
    index = {tuple(r[g] for g in spec.grain): i for i, r in enumerate(records)}

    def published(i: int, c: str) -> bool:
        return c not in records[i][SUPPRESSED] and not pd.isna(records[i][c])

    out = []
    for key in sorted(groups):
        rows = groups[key]
        result: dict[str, Any] = dict(zip(by, key, strict=True))
        read: set[str] = set()
        for col in spec.fields:
            agg = col.aggregation
            if agg is Aggregation.SUM:
                cells = [records[i][col.name] for i in rows if published(i, col.name)]
                result[col.name] = sum(cells) if cells else None
                read.add(col.name)
            elif agg is Aggregation.RATIO:
                num, den = col.numerator, col.denominator
                both = [i for i in rows if published(i, num) and published(i, den)]
                n, d = sum(records[i][num] for i in both), sum(records[i][den] for i in both)
                if not both or d == 0:
                    result[col.name] = None
                elif col.quantum is not None:
                    result[col.name] = (Decimal(n) / d).quantize(col.quantum)
                else:
                    result[col.name] = n / d
                read.update((num, den))
            elif agg is Aggregation.MEAN:
                w = col.denominator
                both = [i for i in rows if published(i, col.name) and published(i, w)]
                weight = sum(records[i][w] for i in both)
                total = sum(records[i][col.name] * records[i][w] for i in both)
                result[col.name] = total / weight if both and weight else None
                read.update((col.name, w))
            elif agg is Aggregation.GROWTH:
                (source,) = col.inputs
                read.add(source)
                if spec.period not in by:
                    result[col.name] = None
                    continue
                cur = prev = 0
                for i in rows:
                    r = records[i]
                    j = index.get(
                        tuple(r[g] - pd.DateOffset(months=1) if g == spec.period else r[g] for g in spec.grain)
                    )
                    if j is not None and published(i, source) and published(j, source):
                        cur += r[source]
                        prev += records[j][source]
                result[col.name] = float((cur - prev) / prev) if prev else None
        result[EXCLUDED_CELLS] = sum(c in records[i][SUPPRESSED] for i in rows for c in read)
        out.append(result)
    return out


def same(a: Any, b: Any) -> bool:
    if a is None or a is pd.NA or (isinstance(a, float) and math.isnan(a)):
        return b is None or b is pd.NA or (isinstance(b, float) and math.isnan(b))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and type(a) is type(b) if isinstance(a, Decimal) else a == b


@PROPERTY
@given(data=st.data(), name=st.sampled_from(tuple(DATASETS)))
def test_property_aggregates_are_sums_of_published_cells(data: st.DataObject, name: str) -> None:
    spec = DATASETS[name]
    df = data.draw(masked_tables(name))
    for by in ([], ["month"], ["facility_id"], list(spec.grain)):
        got = aggregate_published(df, by, spec).to_dict("records")
        want = reference_aggregate(df, by, spec) if len(df) or by else None
        if want is None:  # an empty frame still has its one overall row
            assert got[0][EXCLUDED_CELLS] == 0
            continue
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            for key, value in w.items():
                assert same(g[key], value), (by, key, g[key], value)
            assert g[PARTIAL] == (w[EXCLUDED_CELLS] > 0)


KPI_READS = {
    "pipeline": ("applications", "hired", "time_to_fill_days"),
    "compliance": ("checks", "passed"),
    "revenue": ("revenue", "placements"),
    "outreach": ("sent", "responded", "converted"),
}


@settings(PROPERTY, max_examples=30)  # four tables per example
@given(data=st.data())
def test_property_kpi_totals_match_the_aggregates(data: st.DataObject) -> None:
    frames = {name: data.draw(masked_tables(name)) for name in DATASETS}
    row = kpi_totals(frames)
    excluded = 0
    for field, (name, column) in KPI_FIELDS.items():
        want = reference_aggregate(frames[name], [], DATASETS[name]) if len(frames[name]) else [{}]
        assert same(row[field], want[0].get(column))
    for name, df in frames.items():
        excluded += sum(c in s for s in df[SUPPRESSED] for c in KPI_READS[name])
    assert row["excluded_cells"] == excluded and row["partial"] == (excluded > 0)


@PROPERTY
@given(data=st.data(), name=st.sampled_from(tuple(DATASETS)))
def test_property_totals_never_read_hidden_values(data: st.DataObject, name: str) -> None:
    """Raw values put back under the masker's lists change no total: there is nothing to difference."""
    spec = DATASETS[name]
    df = data.draw(masked_tables(name))
    leaked = df.copy()
    for c in spec.value_columns:
        if spec.column(c).kind.value == "count":
            leaked[c] = leaked[c].fillna(999_999)
        elif leaked[c].dtype == object:
            leaked[c] = [Decimal("123456.78") if v is None else v for v in leaked[c]]
        else:
            leaked[c] = leaked[c].fillna(0.123)
    for by in ([], ["month"], ["facility_id"]):
        pd.testing.assert_frame_equal(aggregate_published(leaked, by, spec), aggregate_published(df, by, spec))


@PROPERTY
@given(data=st.data(), name=st.sampled_from(tuple(DATASETS)))
def test_property_selections_difference_to_published_cells_only(data: st.DataObject, name: str) -> None:
    """Totals of {A, B} minus totals of {A} are totals of {B}: the difference holds no hidden value."""
    spec = DATASETS[name]
    df = data.draw(masked_tables(name))
    facilities = sorted(set(df["facility_id"]))
    a = data.draw(st.sets(st.sampled_from(facilities))) if facilities else set()
    whole = aggregate_published(df, [], spec).iloc[0]
    part_a = aggregate_published(df[df["facility_id"].isin(sorted(a))], [], spec).iloc[0]
    part_b = aggregate_published(df[~df["facility_id"].isin(sorted(a))], [], spec).iloc[0]
    for c in (*spec.count_columns, *(m for m in spec.money_columns if spec.column(m).aggregation == "sum")):
        values = [0 if v is None or v is pd.NA else v for v in (whole[c], part_a[c], part_b[c])]
        assert values[0] == values[1] + values[2]
    assert whole[EXCLUDED_CELLS] == part_a[EXCLUDED_CELLS] + part_b[EXCLUDED_CELLS]


def true_figure(raw: pd.DataFrame, col: Any) -> float | None:
    """The figure over every row of a group, from the unmasked data."""
    agg = col.aggregation
    if agg is Aggregation.SUM:
        return float(sum(raw[col.name].tolist()))
    if agg is Aggregation.RATIO:
        den = sum(raw[col.denominator].tolist())
        if not den:
            return None
        return float(Decimal(sum(raw[col.numerator].tolist())) / den)
    if agg is Aggregation.MEAN:
        weight = raw[col.denominator].astype(float)
        used = weight > 0
        return float((raw[col.name][used] * weight[used]).sum() / weight[used].sum()) if used.any() else None
    return None


@settings(PROPERTY, max_examples=40)
@given(data=st.data(), name=st.sampled_from(tuple(DATASETS)))
def test_property_the_truth_lies_within_the_range_and_statuses_are_honest(data: st.DataObject, name: str) -> None:
    """Whatever was hidden, the figure the unmasked rows give lies within [low, high]; a figure is undefined only
    when the unmasked rows give nothing to compute either, and partial exactly when it left a hidden cell out."""
    spec = DATASETS[name]
    raw, df, k = data.draw(raw_and_masked(name))
    for by in ([], ["facility_id"], ["month"]):
        out = aggregate_published(df, by, spec, threshold=k)
        for i in range(len(out)):
            keys = {b: out.loc[i, b] for b in by}
            rows = raw[np.logical_and.reduce([raw[b] == v for b, v in keys.items()])] if by else raw
            for col in spec.fields:
                if col.aggregation in (Aggregation.NONE, Aggregation.GROWTH):
                    continue
                state = out.loc[i, f"{col.name}__status"]
                truth = true_figure(rows, col)
                if state == Status.UNDEFINED:
                    assert truth is None or len(rows) == 0, (by, col.name)
                    continue
                low, high = out.loc[i, f"{col.name}__low"], out.loc[i, f"{col.name}__high"]
                if state == Status.PUBLISHED and truth is not None:
                    slack = float(col.quantum) / 2 if col.quantum is not None else 1e-9  # money rounds to cents
                    assert low - slack <= truth <= high + slack, (by, col.name, low, truth, high)
                partial = out.loc[i, f"{col.name}__excluded"] > 0
                assert (state == Status.SUPPRESSED) or partial == (low != high) or math.isclose(low, high), col.name
                assert shown(out.iloc[[i]], col.name, rate=is_rate(col))[0] in {s.value for s in Shown}


def test_aggregate_100k_rows_stays_vectorised() -> None:
    rng = np.random.default_rng(3)
    n = 100_000
    hired, rejected, pending = (rng.integers(0, 30, n) for _ in range(3))
    pending = pending + 1
    apps = hired + rejected + pending
    raw = pd.DataFrame(
        {
            "facility_id": np.arange(n) // 100,
            "month": pd.to_datetime(pd.DataFrame({"year": 2000 + np.arange(n) % 100, "month": 1, "day": 1})),
            "applications": apps,
            "screened": apps,
            "interviewed": apps,
            "offered": apps,
            "hired": hired,
            "rejected": rejected,
            "pending": pending,
            "conversion_rate": hired / apps,
            "time_to_fill_days": np.where(hired > 0, 12.5, np.nan),
        }
    )
    out = aggregate_published(mask(raw, PIPELINE, K5), ["month"], PIPELINE)
    assert len(out) == 100 and int(out[EXCLUDED_CELLS].sum()) > 0


@settings(PROPERTY, max_examples=40)
@given(data=st.data(), name=st.sampled_from(tuple(DATASETS)))
def test_property_a_shared_row_state_gives_the_same_totals(data: st.DataObject, name: str) -> None:
    """Groupings of one frame sharing its per-row work (a page's charts, the overview) total as each alone."""
    _, df, k = data.draw(raw_and_masked(name))
    spec = DATASETS[name]
    rows = row_state(df, spec, threshold=k)
    for by in ([], ["month"], ["facility_id"], list(spec.grain)):
        pd.testing.assert_frame_equal(aggregate_published(df, by, spec, threshold=k, rows=rows),
                                      aggregate_published(df, by, spec, threshold=k))
    with pytest.raises(ValueError, match="RowState"):
        aggregate_published(df.copy(), [], spec, threshold=k, rows=rows)


@pytest.mark.parametrize("keys", [
    {"month": pd.to_datetime(["2026-03-01", "2026-01-01", "2026-03-01", "2026-02-01"])},
    {"month": pd.to_datetime(["2026-03-01", None, "2026-01-01", None])},  # a gap: numbered by pandas, NaT last
    {"facility_id": np.array([7, 3, 7, 12], dtype=np.int64)},
    {"channel": np.array(["sms", "email", "sms", "phone"], dtype=object)},
    {"facility_id": np.array([7, 3, 7, 3]), "channel": np.array(["sms", "email", "email", "email"], dtype=object)},
])
def test_group_numbers_are_those_pandas_gives(keys):
    frame = pd.DataFrame(keys)
    expected = frame.groupby(list(keys), sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    assert _group_codes(frame, list(keys)).tolist() == expected.tolist()
