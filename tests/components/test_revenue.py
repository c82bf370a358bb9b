"""components/revenue.py on totals frames built as production builds them."""

from __future__ import annotations

from components.figures import is_empty
from components.revenue import revenue_by_facility, revenue_by_month, revenue_per_placement
from data.specs import REVENUE

from .conftest import FACILITY, K, hidden_positions, partials, ranges, revenue_row, totals, values


def rows() -> list[dict]:
    return [revenue_row(1, 0, placements=10, invoices=20, revenue="120000.50"),
            revenue_row(1, 1, placements=12, invoices=25, revenue="150000.00"),
            revenue_row(2, 0, placements=2, invoices=2, revenue="9000.00"),
            revenue_row(2, 1, placements=300, invoices=400, revenue="717554123.00")]


def test_revenue_by_month_labels_each_bar_with_its_change_in_readable_text() -> None:
    data = totals(REVENUE, [r for r in rows() if r["facility_id"] == 1], ["month"])
    fig = revenue_by_month(data, threshold=K)
    assert values(fig, "revenue") == [120000.5, 150000.0]
    (labels,) = [t for t in fig.data if t.meta and t.meta.get("role") == "label"]
    assert list(labels.text) == ["", "+25.0%"] and labels.textfont.size == 12


def test_growth_is_hidden_next_to_a_hidden_month_and_says_so() -> None:
    data = totals(REVENUE, [revenue_row(1, 0, placements=2, revenue="100.00"),
                            revenue_row(1, 1, placements=10, revenue="200.00")], ["month"])
    fig = revenue_by_month(data, threshold=K)
    (labels,) = [t for t in fig.data if t.meta and t.meta.get("role") == "label"]
    assert list(labels.text) == ["", "change hidden"]
    assert hidden_positions(fig) == ["2024-01"]


def test_revenue_by_facility_labels_outside_in_compact_dollars_and_hidden_marks_stay_small() -> None:
    fig = revenue_by_facility(totals(REVENUE, rows(), FACILITY), threshold=K)
    assert list(fig.layout.yaxis.categoryarray) == ["South", "North"]
    # South's January is hidden (2 invoices): at most 4 of its 404 invoices are left out, so its total is one
    # dotted (partial) value; North is complete.
    assert values(fig, "revenue", axis="x") == [717554123.0, 270000.5]
    (dotted,) = partials(fig)
    assert dotted.textposition == "outside" and list(dotted.text) == ["$717.6M", ""]
    assert "Partial: 1 of 2 months" in dotted.customdata[0][1]


def test_money_leaving_out_much_of_its_invoices_is_at_least_a_value() -> None:
    rows_ = [revenue_row(1, 0, placements=10, invoices=20, revenue="100.00"),
             revenue_row(1, 1, placements=2, invoices=3, revenue="900.00")]
    fig = revenue_by_facility(totals(REVENUE, rows_, FACILITY), threshold=K)
    (striped,) = ranges(fig)
    assert list(striped.text) == ["≥ $100"]


def test_revenue_per_placement_and_empty() -> None:
    fig = revenue_per_placement(totals(REVENUE, rows()[:2], ["month"]), threshold=K)
    assert values(fig, "revenue_per_placement") == [12000.05, 12500.0]
    assert is_empty(revenue_by_month(totals(REVENUE, [], ["month"]), threshold=K))
