from decimal import Decimal

import pandas as pd
import pytest

from components import revenue
from components.figures import is_empty


def test_revenue_by_month_bars_and_growth_labels(revenue_df, threshold, trace, placeholders, subtitle):
    df = revenue_df.assign(mom_growth=[float("nan"), float("nan"), 0.25], suppressed=[[], revenue_df.suppressed[1], []])
    fig = revenue.revenue_by_month(df, threshold=threshold)
    bars = trace(fig, "Revenue")
    assert list(bars.x) == ["2026-01", "2026-02", "2026-03"]
    assert list(bars.y) == [120000.5, None, 150000.0]
    assert list(bars.text) == ["", "", "+25.0%"]
    assert placeholders(fig) == ["2026-02"]
    assert fig.layout.yaxis.tickformat == "$,.0f"
    assert "%{y:$,.2f}" in bars.hovertemplate
    assert [row[0] for row in bars.customdata] == ["n/a", "suppressed", "+25.0%"]
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_revenue_growth_hidden_next_to_a_hidden_month_is_labelled_suppressed(revenue_df, threshold, trace):
    bars = trace(revenue.revenue_by_month(revenue_df, threshold=threshold), "Revenue")
    assert bars.text[2] == "growth suppressed"


def test_revenue_growth_is_recomputed_only_between_complete_totals(revenue_df, threshold, trace):
    south = revenue_df.assign(
        facility_id=2,
        facility_name="South",
        revenue=[Decimal("80000"), Decimal("50000"), Decimal("50000")],
        placements=pd.array([5, 5, 5], dtype="Int64"),
        suppressed=[[], [], []],
    )
    both = pd.concat(
        [
            revenue_df.assign(
                revenue=[Decimal("100000"), Decimal("100000"), Decimal("150000")],
                placements=pd.array([5, 5, 5], dtype="Int64"),
                suppressed=[[]] * 3,
            ),
            south,
        ]
    )
    bars = trace(revenue.revenue_by_month(both, threshold=threshold), "Revenue")
    assert list(bars.y) == [180000.0, 150000.0, 200000.0]
    assert bars.text[1] == "-16.7%"
    assert bars.text[2] == "+33.3%"


def test_revenue_by_facility_sorted_descending(revenue_df, threshold, trace, placeholders):
    south = revenue_df.assign(
        facility_id=2,
        facility_name="South",
        suppressed=[[]] * 3,
        revenue=[Decimal("1000"), Decimal("2000"), Decimal("3000")],
        placements=pd.array([1, 2, 3], dtype="Int64"),
    )
    west = revenue_df.iloc[[1]].assign(facility_id=3, facility_name="West")
    fig = revenue.revenue_by_facility(pd.concat([revenue_df, south, west]), threshold=threshold)
    bars = trace(fig, "Revenue")
    assert list(bars.y) == ["North", "South", "West"]
    assert list(bars.x) == [270000.5, 6000.0, None]
    assert list(bars.text) == ["$270,001", "$6,000", ""]
    assert placeholders(fig) == ["West"]
    assert bars.customdata[1][1] == "$1,000.00"  # revenue per placement = 6000 / 6


def test_revenue_per_placement(revenue_df, threshold, trace, placeholders, subtitle):
    fig = revenue.revenue_per_placement(revenue_df, threshold=threshold)
    line = trace(fig, "Revenue per placement")
    assert list(line.y) == [pytest.approx(12000.05), None, 12500.0]
    assert placeholders(fig) == ["2026-02"]
    assert "%{y:$,.2f}" in line.hovertemplate
    assert "suppressed: fewer than 5" in subtitle(fig)


@pytest.mark.parametrize(
    "builder", [revenue.revenue_by_month, revenue.revenue_by_facility, revenue.revenue_per_placement]
)
def test_revenue_empty_state(builder, revenue_df):
    assert is_empty(builder(revenue_df.iloc[0:0], threshold=5))
