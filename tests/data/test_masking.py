"""Tests for data/masking.py and data/specs.py: the suppression rules (docs/PRIVACY.md), unit cases and
properties."""

from __future__ import annotations

import math
import time
from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.masking import (
    SUPPRESSED,
    MaskPolicy,
    MaskResult,
    _previous_row_positions_by_merge,
    mask,
    previous_row_positions,
    suppressed_matrix,
)
from data.specs import (
    COMPLIANCE,
    DATASETS,
    OUTREACH,
    PIPELINE,
    REVENUE,
    Column,
    DatasetSpec,
    Group,
    Kind,
)

K5 = MaskPolicy(threshold=5)
MONTHS = [pd.Timestamp(2024, m, 1) for m in range(1, 8)]
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- Frame builders: consistent rows as the data layer produces them (dtypes of data/queries.py).


def pipeline_row(
    facility_id: int = 1, month: int = 0, *, hired: int, rejected: int, pending: int, **over: Any
) -> dict[str, Any]:
    applications = hired + rejected + pending
    row = {
        "facility_id": facility_id,
        "month": MONTHS[month],
        "applications": applications,
        "screened": applications,
        "interviewed": hired + rejected,
        "offered": hired + rejected,
        "hired": hired,
        "rejected": rejected,
        "pending": pending,
        "conversion_rate": hired / applications if applications else math.nan,
        "time_to_fill_days": 21.5 if hired else math.nan,
    }
    return {**row, **over}


def compliance_row(
    facility_id: int = 1,
    month: int = 0,
    *,
    passed: int,
    low: int = 0,
    medium: int = 0,
    high: int = 0,
    critical: int = 0,
    **over: Any,
) -> dict[str, Any]:
    failed = low + medium + high + critical
    checks = passed + failed
    row = {
        "facility_id": facility_id,
        "month": MONTHS[month],
        "checks": checks,
        "passed": passed,
        "failed": failed,
        "violations_low": low,
        "violations_medium": medium,
        "violations_high": high,
        "violations_critical": critical,
        "avg_score": 88.5,
        "compliance_rate": passed / checks if checks else math.nan,
    }
    return {**row, **over}


def revenue_row(
    facility_id: int = 1,
    month: int = 0,
    *,
    placements: int,
    invoices: int | None = None,
    revenue: str = "1000.00",
) -> dict[str, Any]:
    invoices = placements if invoices is None else invoices
    amount = Decimal(revenue)
    cents = Decimal("0.01")
    return {
        "facility_id": facility_id,
        "month": MONTHS[month],
        "invoices": invoices,
        "placements": placements,
        "revenue": amount,
        "avg_invoice": (amount / invoices).quantize(cents) if invoices else None,
        "revenue_per_placement": (amount / placements).quantize(cents) if placements else None,
        "mom_growth": math.nan,
    }


def outreach_row(
    facility_id: int = 1, month: int = 0, channel: str = "email", *, sent: int, responded: int, converted: int
) -> dict[str, Any]:
    return {
        "facility_id": facility_id,
        "month": MONTHS[month],
        "channel": channel,
        "sent": sent,
        "responded": responded,
        "converted": converted,
        "response_rate": responded / sent if sent else math.nan,
        "conversion_rate": converted / sent if sent else math.nan,
    }


def with_growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill mom_growth the way the view does: null without a previous-month row or with zero revenue there."""
    by_key = {(r["facility_id"], r["month"]): r for r in rows}
    for r in rows:
        prev = by_key.get((r["facility_id"], r["month"] - pd.DateOffset(months=1)))
        if prev is not None and prev["revenue"] != 0:
            r["mom_growth"] = float((r["revenue"] - prev["revenue"]) / prev["revenue"])
        else:
            r["mom_growth"] = math.nan
    return rows


def frame(spec: DatasetSpec, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame with the data layer's dtypes: int64 counts, float64 rates, Decimal-or-None money."""
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
        df[name] = pd.Series([None if v is None else v for v in df[name]], dtype=object)
    return df


def one(spec: DatasetSpec, row: dict[str, Any], policy: MaskPolicy = K5) -> pd.Series:
    return mask(frame(spec, [row]), spec, policy).frame.iloc[0]


# --- Specs


def test_datasets_are_the_four_views_with_their_columns() -> None:
    assert list(DATASETS) == ["pipeline", "compliance", "revenue", "outreach"]
    assert PIPELINE.columns == (
        "facility_id",
        "month",
        "applications",
        "screened",
        "interviewed",
        "offered",
        "hired",
        "rejected",
        "pending",
        "conversion_rate",
        "time_to_fill_days",
    )
    assert OUTREACH.grain == ("facility_id", "month", "channel")
    assert OUTREACH.series_keys == ("facility_id", "channel")
    assert REVENUE.count_columns == ("invoices", "placements")
    assert REVENUE.money_columns == ("revenue", "avg_invoice", "revenue_per_placement")
    assert REVENUE.growth_columns == ("mom_growth",)
    assert COMPLIANCE.value_columns[-2:] == ("avg_score", "compliance_rate")
    assert [g.members for g in COMPLIANCE.groups] == [
        ("checks", "passed", "failed"),
        ("failed", "violations_low", "violations_medium", "violations_high", "violations_critical"),
    ]
    assert PIPELINE.groups[0].members == ("applications", "hired", "rejected", "pending")
    assert PIPELINE.column("time_to_fill_days").denominator == "hired"


def test_specs_are_frozen_and_hashable() -> None:
    with pytest.raises(FrozenInstanceError):
        PIPELINE.name = "x"  # type: ignore[misc]
    assert hash(PIPELINE) == hash(PIPELINE)


@pytest.mark.parametrize(
    "fields, groups, message",
    [
        ((Column("g", Kind.GRAIN), Column("r", Kind.DERIVED, inputs=("n",))), (), "declared before"),
        (
            (Column("g", Kind.GRAIN), Column("m", Kind.MONEY), Column("r", Kind.DERIVED, denominator="m")),
            (),
            "not a count",
        ),
        ((Column("g", Kind.GRAIN), Column("n", Kind.COUNT)), (Group("n", ("x",)),), "not a count column"),
        ((Column("g", Kind.GRAIN), Column("n", Kind.COUNT), Column("n", Kind.COUNT)), (), "duplicate"),
        ((Column("g", Kind.GRAIN), Column("n", Kind.COUNT), Column("x", Kind.GROWTH)), (), "growth needs"),
    ],
)
def test_spec_validation(fields: tuple[Column, ...], groups: tuple[Group, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DatasetSpec(name="bad", grain=("g",), fields=fields, groups=groups)


def test_policy_rejects_a_bad_threshold() -> None:
    for bad in (0, -1, 4, True, 2.5):
        with pytest.raises(ValueError):
            MaskPolicy(threshold=bad)  # type: ignore[arg-type]


# --- Primary suppression


def test_primary_hides_one_to_k_minus_one_and_shows_zero_and_k() -> None:
    row = one(PIPELINE, pipeline_row(hired=0, rejected=4, pending=1, screened=5, interviewed=0, offered=1))
    assert row["hired"] == 0
    assert row["screened"] == 5
    assert row["rejected"] is pd.NA and row["pending"] is pd.NA and row["offered"] is pd.NA
    assert row["interviewed"] == 0
    assert row["applications"] == 5


def test_threshold_is_the_policy_threshold() -> None:
    row = pipeline_row(hired=10, rejected=10, pending=10, screened=30, interviewed=20, offered=12)
    assert one(PIPELINE, row, MaskPolicy(threshold=11))[SUPPRESSED] == [
        "hired",
        "rejected",
        "pending",
        "conversion_rate",
        "time_to_fill_days",
    ]
    assert one(PIPELINE, row, MaskPolicy(threshold=10))[SUPPRESSED] == []


# --- Complementary suppression


def test_a_hidden_part_hides_every_non_zero_part_of_its_group() -> None:
    row = one(PIPELINE, pipeline_row(hired=3, rejected=7, pending=10, screened=20, interviewed=10, offered=10))
    assert row[SUPPRESSED] == ["hired", "rejected", "pending", "conversion_rate", "time_to_fill_days"]
    assert row["applications"] == 20
    assert math.isnan(row["conversion_rate"]) and math.isnan(row["time_to_fill_days"])


def test_the_pattern_does_not_tell_which_part_was_small() -> None:
    small_hire = one(PIPELINE, pipeline_row(hired=3, rejected=7, pending=10, screened=20, interviewed=10, offered=10))
    small_rejection = one(PIPELINE, pipeline_row(hired=7, rejected=3, pending=10, screened=20, interviewed=10,
                                                 offered=10))
    assert small_hire[SUPPRESSED] == small_rejection[SUPPRESSED]


def test_zero_parts_stay_published() -> None:
    row = one(PIPELINE, pipeline_row(hired=3, rejected=0, pending=7, screened=10, interviewed=5, offered=5))
    assert row["rejected"] == 0
    assert row[SUPPRESSED][:2] == ["hired", "pending"]
    assert row["applications"] == 10


def test_two_small_members_adding_up_to_2k_minus_2_take_the_rest_of_the_group() -> None:
    # A row the first masker got wrong: high + critical = 8 with low = 5 published pinned both at 4.
    row = one(COMPLIANCE, compliance_row(passed=100, low=5, medium=7, high=4, critical=4))
    assert row[SUPPRESSED] == ["violations_low", "violations_medium", "violations_high", "violations_critical"]
    assert row["failed"] == 20 and row["checks"] == 120


def test_a_near_least_sum_hides_the_whole() -> None:
    # 5 checks: passed 1 and four single failures. Every hidden count is at least 1, so with checks = 5
    # published the six unknowns would all be pinned; the total is hidden too.
    row = one(COMPLIANCE, compliance_row(passed=1, low=1, medium=1, high=1, critical=1))
    assert row[SUPPRESSED][:7] == list(COMPLIANCE.count_columns)


def test_a_group_left_with_one_hidden_member_hides_its_whole() -> None:
    spec = DatasetSpec(
        name="chain",
        grain=("facility_id", "month"),
        fields=(
            Column("facility_id", Kind.GRAIN),
            Column("month", Kind.GRAIN),
            *(Column(n, Kind.COUNT) for n in ("a", "b", "c", "x", "d")),
        ),
        groups=(Group("a", ("b", "c")), Group("x", ("c", "d"))),
    )
    # d = 3 is small; its group hides c too; in the first group c is then the only hidden member and the only
    # non-zero part (a = c = 20), so a is hidden as well.
    df = pd.DataFrame({"facility_id": [1], "month": [MONTHS[0]], "a": [20], "b": [0], "c": [20], "x": [23], "d": [3]})
    assert mask(df, spec, K5).frame.loc[0, SUPPRESSED] == ["a", "c", "d"]


def test_repeated_passes_until_no_rule_hides_more() -> None:
    # Groups listed so that the second one hides a member of the first: a second pass must fix the first.
    spec = DatasetSpec(
        name="chain",
        grain=("facility_id", "month"),
        fields=(
            Column("facility_id", Kind.GRAIN),
            Column("month", Kind.GRAIN),
            *(Column(n, Kind.COUNT) for n in ("a", "b", "c", "x", "d")),
        ),
        groups=(Group("a", ("b", "c")), Group("x", ("c", "d"))),
    )
    df = pd.DataFrame({"facility_id": [1], "month": [MONTHS[0]], "a": [20], "b": [10], "c": [10], "x": [13], "d": [3]})
    result = mask(df, spec, K5)
    assert result.frame.loc[0, SUPPRESSED] == ["b", "c", "d"]
    assert result.suppressed_cells == 3


def test_compliance_chain_through_failed() -> None:
    # passed = 2 is hidden, so its group hides failed; failed hidden hides every non-zero violation level.
    row = one(COMPLIANCE, compliance_row(passed=2, low=10, medium=28))
    assert row[SUPPRESSED] == ["passed", "failed", "violations_low", "violations_medium", "compliance_rate"]
    assert row["checks"] == 40 and row["violations_high"] == 0
    assert row["avg_score"] == 88.5


# --- Derived figures and money


def test_undefined_null_is_not_a_suppression() -> None:
    row = one(PIPELINE, pipeline_row(hired=0, rejected=10, pending=10, screened=20, interviewed=10, offered=10))
    assert math.isnan(row["time_to_fill_days"])
    assert row[SUPPRESSED] == []


def test_derived_hidden_when_its_denominator_is_hidden() -> None:
    row = one(COMPLIANCE, compliance_row(passed=3, low=1))
    assert row[SUPPRESSED] == ["checks", "passed", "failed", "violations_low", "avg_score", "compliance_rate"]


def test_outreach_rates_follow_their_counts() -> None:
    row = one(OUTREACH, outreach_row(sent=40, responded=12, converted=3))
    assert row[SUPPRESSED] == ["converted", "conversion_rate"]
    assert row["response_rate"] == 12 / 40


def test_money_follows_placements() -> None:
    row = one(REVENUE, revenue_row(placements=3, invoices=9))
    assert row[SUPPRESSED] == ["placements", "revenue", "avg_invoice", "revenue_per_placement", "mom_growth"]
    assert row["revenue"] is None and row["invoices"] == 9


def test_money_also_follows_invoices() -> None:
    # Invoices without a placement: three invoices must not show their amounts (money follows invoices too).
    row = one(REVENUE, revenue_row(placements=0, invoices=3))
    assert row[SUPPRESSED] == ["invoices", "revenue", "avg_invoice", "revenue_per_placement", "mom_growth"]
    assert row["revenue"] is None and row["avg_invoice"] is None


def test_mom_growth_hidden_when_previous_month_revenue_is() -> None:
    rows = with_growth(
        [
            revenue_row(1, 0, placements=3, invoices=9, revenue="300.00"),
            revenue_row(1, 1, placements=6, revenue="600.00"),
            revenue_row(1, 2, placements=7, revenue="900.00"),
            revenue_row(2, 0, placements=8, revenue="100.00"),
            revenue_row(2, 2, placements=3, revenue="50.00"),  # no February row: growth undefined
            revenue_row(2, 3, placements=9, revenue="80.00"),
        ]
    )
    out = mask(frame(REVENUE, rows), REVENUE, K5).frame
    assert out.loc[0, SUPPRESSED] == [
        "placements",
        "revenue",
        "avg_invoice",
        "revenue_per_placement",
        "mom_growth",
    ]
    assert out.loc[1, SUPPRESSED] == ["mom_growth"]
    assert out.loc[1, "revenue"] == Decimal("600.00")
    assert out.loc[2, SUPPRESSED] == [] and out.loc[2, "mom_growth"] == 0.5
    assert out.loc[3, SUPPRESSED] == []  # no previous row: undefined, not suppressed
    assert "mom_growth" in out.loc[4, SUPPRESSED]  # this month's revenue hidden
    assert out.loc[5, SUPPRESSED] == ["mom_growth"]
    assert all(math.isnan(v) for v in out["mom_growth"][[0, 1, 3, 4, 5]])


def test_previous_row_positions_use_calendar_months_within_a_series() -> None:
    df = frame(
        OUTREACH,
        [
            outreach_row(1, 1, "sms", sent=9, responded=1, converted=0),
            outreach_row(1, 0, "email", sent=9, responded=1, converted=0),
            outreach_row(1, 1, "email", sent=9, responded=1, converted=0),
            outreach_row(2, 2, "email", sent=9, responded=1, converted=0),
        ],
    )
    assert previous_row_positions(df, OUTREACH).tolist() == [-1, -1, 1, -1]
    df.loc[3, "month"] = pd.Timestamp(2025, 1, 1)
    dec = frame(OUTREACH, [outreach_row(2, 0, sent=9, responded=1, converted=0)])
    dec.loc[0, "month"] = pd.Timestamp(2024, 12, 1)
    both = pd.concat([df, dec], ignore_index=True)
    assert previous_row_positions(both, OUTREACH).tolist() == [-1, -1, 1, 4, -1]


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.tuples(st.integers(1, 4), st.sampled_from(["email", "sms", "phone"]), st.integers(0, 30)),
                      max_size=60, unique=True),
       gaps=st.lists(st.integers(0, 59), max_size=3), seed=st.integers(0, 10**6))
def test_previous_row_positions_agree_with_the_merge_they_replaced(cells, gaps, seed) -> None:
    """The numpy numbering gives what the pandas merge gave, in any row order; rows without a month or a series key
    (which it does not number) go to the merge."""
    rows = [outreach_row(f, 0, c, sent=9, responded=1, converted=0) for f, c, _ in cells]
    df = frame(OUTREACH, rows).assign(month=[pd.Timestamp(2023, 1, 1) + pd.DateOffset(months=m) for _, _, m in cells])
    df = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    assert previous_row_positions(df, OUTREACH).tolist() == _previous_row_positions_by_merge(df, OUTREACH).tolist()
    if len(df) and gaps:
        holes = df.astype({"month": object, "channel": object})
        for i in gaps:
            holes.loc[i % len(df), "month" if i % 2 else "channel"] = None
        assert _outcome(previous_row_positions, holes) == _outcome(_previous_row_positions_by_merge, holes)


def _outcome(positions: Any, df: pd.DataFrame) -> Any:
    try:
        return positions(df, OUTREACH).tolist()
    except ValueError as exc:  # rows that became duplicates once a key was blanked: refused alike
        return str(exc)


def test_duplicate_grain_rows_are_refused_when_growth_needs_them() -> None:
    rows = [revenue_row(1, 0, placements=9), revenue_row(1, 0, placements=9)]
    with pytest.raises(ValueError, match="more than one row"):
        mask(frame(REVENUE, rows), REVENUE, K5)


# --- Policy (on/off, threshold), output shape, purity


def test_disabled_policy_hides_nothing() -> None:
    df = frame(PIPELINE, [pipeline_row(hired=1, rejected=2, pending=3)])
    result = mask(df, PIPELINE, MaskPolicy(enabled=False))
    assert result.suppressed_cells == 0
    assert result.frame.loc[0, SUPPRESSED] == []
    assert result.frame.loc[0, "hired"] == 1 and result.frame.loc[0, "conversion_rate"] == 1 / 6


def test_output_shape_dtypes_and_purity() -> None:
    rows = with_growth([revenue_row(1, 0, placements=3), revenue_row(1, 1, placements=9, revenue="2000.00")])
    df = frame(REVENUE, rows)
    df.insert(1, "facility_name", ["Mercy", "Mercy"])
    df.index = pd.Index([10, 20])
    before = df.copy(deep=True)
    result = mask(df, REVENUE, K5)
    pd.testing.assert_frame_equal(df, before)
    out = result.frame
    assert out is not df
    assert list(out.columns) == [*df.columns, SUPPRESSED]
    assert list(out.index) == [10, 20]
    assert out["facility_name"].tolist() == ["Mercy", "Mercy"]
    assert str(out["invoices"].dtype) == "Int64" and str(out["placements"].dtype) == "Int64"
    assert out["revenue"].dtype == object and out["mom_growth"].dtype == "float64"
    assert out.loc[10, "placements"] is pd.NA and out.loc[10, "revenue"] is None
    assert out.loc[20, "revenue"] == Decimal("2000.00") and isinstance(out.loc[20, "avg_invoice"], Decimal)
    assert result.suppressed_cells == 6 + 1  # invoices, placements, 3 money, mom_growth in row 1; growth in row 2
    assert isinstance(result, MaskResult)


def test_masking_a_masked_frame_changes_nothing() -> None:
    df = frame(
        PIPELINE,
        [pipeline_row(hired=3, rejected=7, pending=10), pipeline_row(2, hired=0, rejected=5, pending=5)],
    )
    first = mask(df, PIPELINE, K5)
    second = mask(first.frame, PIPELINE, K5)
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert list(second.frame.columns).count(SUPPRESSED) == 1
    assert first.suppressed_cells == second.suppressed_cells


def test_empty_frame() -> None:
    result = mask(frame(REVENUE, []), REVENUE, K5)
    assert result.suppressed_cells == 0 and len(result.frame) == 0 and SUPPRESSED in result.frame


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        mask(
            frame(PIPELINE, [pipeline_row(hired=1, rejected=1, pending=1)]).drop(columns="pending"),
            PIPELINE,
            K5,
        )


def test_suppressed_matrix_reads_the_lists() -> None:
    df = pd.DataFrame({"a": [1, None, None], SUPPRESSED: [[], ["a"], ["b", "a"]]})
    m = suppressed_matrix(df, ["a", "b", "c"])
    assert m["a"].tolist() == [False, True, True] and m["b"].tolist() == [False, False, True]
    assert not m["c"].any()
    with pytest.raises(ValueError, match="not a masked frame"):
        suppressed_matrix(df.drop(columns=SUPPRESSED), ["a"])


def test_masking_10k_rows_is_fast() -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    parts = rng.integers(0, 40, size=(n, 3))
    rows = [
        pipeline_row(int(i // 12) + 1, 0, hired=int(h), rejected=int(r), pending=int(p) + 1)
        for i, (h, r, p) in enumerate(parts)
    ]
    df = frame(PIPELINE, rows)
    df["month"] = pd.to_datetime([date(2020 + i % 12, 1 + i % 12, 1) for i in range(n)])
    mask(df, PIPELINE, K5)
    started = time.perf_counter()
    mask(df, PIPELINE, K5)
    # The target is < 50 ms; the bound leaves room for slow CI machines.
    assert time.perf_counter() - started < 0.5


# --- PII


# --- Properties over random consistent tables

counts_small = st.integers(0, 12)
counts_mixed = st.one_of(st.integers(0, 12), st.integers(0, 12), st.integers(0, 300))


@st.composite
def pipeline_rows(draw: st.DrawFn) -> dict[str, Any]:
    hired, rejected, pending = draw(counts_mixed), draw(counts_mixed), draw(counts_mixed)
    if hired + rejected + pending == 0:
        pending = 1
    offered = hired + draw(counts_small)
    interviewed = offered + draw(counts_small)
    row = pipeline_row(hired=hired, rejected=rejected, pending=pending, offered=offered, interviewed=interviewed)
    row["screened"] = interviewed + draw(counts_small)
    row["time_to_fill_days"] = draw(st.floats(0.5, 120)) if hired else math.nan
    return row


@st.composite
def compliance_rows(draw: st.DrawFn) -> dict[str, Any]:
    levels = [draw(counts_mixed) for _ in range(4)]
    passed = draw(counts_mixed)
    if passed + sum(levels) == 0:
        passed = 1
    row = compliance_row(passed=passed, low=levels[0], medium=levels[1], high=levels[2], critical=levels[3])
    row["avg_score"] = draw(st.floats(0, 100))
    return row


@st.composite
def revenue_rows(draw: st.DrawFn) -> dict[str, Any]:
    placements = draw(counts_mixed)
    invoices = max(1, placements + draw(counts_small))
    cents = draw(st.one_of(st.just(0), st.integers(1, 10**8)))
    return revenue_row(placements=placements, invoices=invoices, revenue=str(Decimal(cents) / 100))


@st.composite
def outreach_rows(draw: st.DrawFn) -> dict[str, Any]:
    sent = max(1, draw(counts_mixed))
    responded = draw(st.integers(0, sent))
    converted = draw(st.integers(0, responded))
    return outreach_row(sent=sent, responded=responded, converted=converted)


ROWS = {
    "pipeline": pipeline_rows(),
    "compliance": compliance_rows(),
    "revenue": revenue_rows(),
    "outreach": outreach_rows(),
}


@st.composite
def tables(draw: st.DrawFn, names: tuple[str, ...] = tuple(DATASETS)) -> tuple[DatasetSpec, pd.DataFrame]:
    """A random consistent table of one dataset: up to 4 facilities x 7 months (x 2 channels for outreach)."""
    spec = DATASETS[draw(st.sampled_from(names))]
    channels = ("email", "sms") if "channel" in spec.grain else ("email",)
    keys = draw(
        st.lists(
            st.tuples(st.integers(1, 4), st.integers(0, len(MONTHS) - 1), st.sampled_from(channels)),
            min_size=1,
            max_size=18,
            unique=True,
        )
    )
    rows = []
    for facility_id, month, channel in keys:
        row = draw(ROWS[spec.name])
        row.update(facility_id=facility_id, month=MONTHS[month])
        if "channel" in spec.grain:
            row["channel"] = channel
        rows.append(row)
    if spec.growth_columns:
        rows = with_growth(rows)
    return spec, frame(spec, rows)


thresholds = st.integers(5, 15)  # the supported range starts at 5 (docs/PRIVACY.md)


def reference_suppressed(df: pd.DataFrame, spec: DatasetSpec, k: int) -> list[list[str]]:
    """The suppression rules (docs/PRIVACY.md, data/masking.py), row by row in plain Python: an independent model of the
    vectorised masker."""
    records = df.to_dict("records")
    wholes = {g.whole: g for g in spec.groups}

    def least(name: str, h: set[str], r: dict[str, Any]) -> int:
        group = wholes.get(name)
        if group is None:
            return 1
        return max(1, sum(least(p, h, r) if p in h else r[p] for p in group.parts))

    hidden: list[set[str]] = []
    for r in records:
        h = {c for c in spec.count_columns if pd.isna(r[c]) or 1 <= r[c] < k}
        while True:
            changed = True
            while changed:  # rules 1 and 2 until nothing changes
                changed = False
                for g in spec.groups:
                    before = len(h)
                    if any(m in h for m in g.members):
                        h |= {p for p in g.parts if r[p] > 0}
                    if sum(m in h for m in g.members) == 1:
                        h.add(g.whole)
                    changed |= len(h) > before
            cornered = set()  # rule 3, read on the settled pattern for every group at once
            for g in spec.groups:
                hidden_parts = [p for p in g.parts if p in h]
                if g.whole not in h and hidden_parts:
                    hidden_sum = r[g.whole] - sum(r[p] for p in g.parts if p not in h)
                    if hidden_sum <= sum(least(p, h, r) for p in hidden_parts) + 1:
                        cornered.add(g.whole)
            if not cornered:
                break
            h |= cornered
        for col in spec.fields:
            if col.kind in (Kind.DERIVED, Kind.MONEY):
                d = col.denominator
                if any(i in h for i in col.inputs) or (d is not None and d not in h and 0 < r[d] < k):
                    h.add(col.name)
        hidden.append(h)
    for col in spec.fields:
        if col.kind is Kind.GROWTH:
            index = {tuple(r[g] for g in spec.grain): i for i, r in enumerate(records)}
            this = [any(i in h for i in col.inputs) for h in hidden]
            for i, r in enumerate(records):
                prev_key = tuple(r[g] - pd.DateOffset(months=1) if g == spec.period else r[g] for g in spec.grain)
                j = index.get(prev_key)
                if this[i] or (j is not None and this[j]):
                    hidden[i].add(col.name)
    return [[c for c in spec.value_columns if c in h] for h in hidden]


def rank(rows: list[list[Fraction]]) -> int:
    """Rank of a small matrix by exact Gaussian elimination."""
    m = [row[:] for row in rows]
    r = 0
    for c in range(len(m[0]) if m else 0):
        pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c] / m[r][c]
                m[i] = [a - f * b for a, b in zip(m[i], m[r], strict=True)]
        r += 1
    return r


def determined_cells(row: pd.Series, spec: DatasetSpec) -> set[str]:
    """Hidden group members whose value follows exactly from the published values of the row's groups.

    Each group gives whole - sum(parts) = 0; with published values moved to the right-hand side, an unknown is
    determined iff its unit vector lies in the row space of the coefficient matrix over the unknowns.
    """
    unknowns = sorted({m for g in spec.groups for m in g.members if row[m] is pd.NA})
    if not unknowns:
        return set()
    position = {u: i for i, u in enumerate(unknowns)}
    equations = []
    for g in spec.groups:
        coefficients = [Fraction(0)] * len(unknowns)
        for m, sign in ((g.whole, 1), *((p, -1) for p in g.parts)):
            if m in position:
                coefficients[position[m]] += sign
        if any(coefficients):
            equations.append(coefficients)
    base = rank(equations)
    found = set()
    for u, i in position.items():
        unit = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if rank([*equations, unit]) == base:
            found.add(u)
    return found


def same_value(a: Any, b: Any) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return a == b


@PROPERTY
@given(table=tables(), k=thresholds)
def test_property_rules_hold(table: tuple[DatasetSpec, pd.DataFrame], k: int) -> None:
    spec, df = table
    before = df.copy(deep=True)
    result = mask(df, spec, MaskPolicy(threshold=k))
    out = result.frame
    pd.testing.assert_frame_equal(df, before)  # pure
    assert list(out.columns) == [*df.columns, SUPPRESSED]
    assert out[SUPPRESSED].tolist() == reference_suppressed(df, spec, k)
    assert result.suppressed_cells == sum(len(s) for s in out[SUPPRESSED])
    for (_, raw), (_, masked) in zip(df.iterrows(), out.iterrows(), strict=True):
        listed = masked[SUPPRESSED]
        assert listed == [c for c in spec.value_columns if c in listed]  # spec order
        for c in spec.value_columns:
            if c in listed:
                assert pd.isna(masked[c])
            else:
                assert same_value(masked[c], raw[c])  # published values are the data's
        for c in spec.count_columns:
            value = masked[c]
            assert value is pd.NA or value == 0 or value >= k  # primary
        for g in spec.groups:
            assert sum(m in listed for m in g.members) != 1  # complementary
        assert determined_cells(masked, spec) == set()  # nothing solvable from the row's group equations
        for col in spec.fields:
            if col.name not in listed and col.kind in (Kind.DERIVED, Kind.MONEY, Kind.GROWTH):
                assert not any(i in listed for i in col.inputs)  # derived
                d = col.denominator
                assert d is None or masked[d] == 0 or masked[d] >= k


@PROPERTY
@given(table=tables(("revenue",)), k=thresholds)
def test_property_growth_never_published_next_to_a_hidden_previous_revenue(
    table: tuple[DatasetSpec, pd.DataFrame], k: int
) -> None:
    spec, df = table
    out = mask(df, spec, MaskPolicy(threshold=k)).frame
    index = {(f, m): i for i, (f, m) in enumerate(zip(out["facility_id"], out["month"], strict=True))}
    for i, (f, m) in enumerate(zip(out["facility_id"], out["month"], strict=True)):
        j = index.get((f, m - pd.DateOffset(months=1)))
        if j is not None and "revenue" in out[SUPPRESSED].iloc[j]:
            assert "mom_growth" in out[SUPPRESSED].iloc[i]
        if "revenue" in out[SUPPRESSED].iloc[i]:
            assert "mom_growth" in out[SUPPRESSED].iloc[i]


@PROPERTY
@given(table=tables(), k=thresholds)
def test_property_idempotent(table: tuple[DatasetSpec, pd.DataFrame], k: int) -> None:
    spec, df = table
    policy = MaskPolicy(threshold=k)
    first = mask(df, spec, policy)
    second = mask(first.frame, spec, policy)
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert first.suppressed_cells == second.suppressed_cells


@PROPERTY
@given(table=tables(), k=thresholds, data=st.data())
def test_property_row_order_does_not_matter(
    table: tuple[DatasetSpec, pd.DataFrame], k: int, data: st.DataObject
) -> None:
    spec, df = table
    order = data.draw(st.permutations(range(len(df))))
    policy = MaskPolicy(threshold=k)
    whole = mask(df, spec, policy).frame
    shuffled = mask(df.iloc[order], spec, policy).frame
    assert list(shuffled.index) == list(df.index[order])
    pd.testing.assert_frame_equal(shuffled.sort_index(), whole)


@PROPERTY
@given(table=tables(), k=thresholds, data=st.data())
def test_property_subset_gives_the_same_rows(
    table: tuple[DatasetSpec, pd.DataFrame], k: int, data: st.DataObject
) -> None:
    spec, df = table
    if spec.growth_columns:
        # The growth rule looks at the previous month: keep each facility's rows together.
        keep = sorted(data.draw(st.sets(st.sampled_from(sorted(set(df["facility_id"]))))))
        subset = df[df["facility_id"].isin(keep)]
    else:
        subset = df[data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))]
    policy = MaskPolicy(threshold=k)
    whole = mask(df, spec, policy).frame
    part = mask(subset, spec, policy).frame
    pd.testing.assert_frame_equal(part, whole.loc[subset.index])


@PROPERTY
@given(table=tables(), k=thresholds)
def test_property_disabled_policy_is_the_identity(table: tuple[DatasetSpec, pd.DataFrame], k: int) -> None:
    spec, df = table
    result = mask(df, spec, MaskPolicy(enabled=False, threshold=k))
    assert result.suppressed_cells == 0
    assert all(s == [] for s in result.frame[SUPPRESSED])
    for c in spec.columns:
        assert all(same_value(a, b) for a, b in zip(result.frame[c], df[c], strict=True))
