"""components/compliance.py on totals frames built as production builds them."""

from __future__ import annotations

from components.compliance import avg_score_trend, compliance_rate_by_facility, violations_by_month
from components.figures import SUPPRESSED_TRACE, is_empty, marked_traces
from data.specs import COMPLIANCE

from .conftest import FACILITY, K, compliance_row, hidden_positions, partials, ranges, subtitle, totals, values


def spotless_looking() -> list[dict]:
    """Issue 11's facility: every month with 1-4 failures is hidden, so the published months are all passes."""
    months = [(10, (1, 1, 0, 0)), (12, (0, 0, 0, 0)), (5, (2, 1, 0, 0)), (9, (1, 0, 1, 0)), (20, (0, 0, 0, 0))]
    rows = [compliance_row(1, m, passed=p, low=lv[0], medium=lv[1], high=lv[2], critical=lv[3])
            for m, (p, lv) in enumerate(months)]
    rows += [compliance_row(2, m, passed=40, low=6, medium=5) for m in range(5)]  # South: 40 of 51 pass
    return rows


def test_a_facility_whose_small_failure_months_are_hidden_is_not_drawn_as_100_percent() -> None:
    fig = compliance_rate_by_facility(totals(COMPLIANCE, spotless_looking(), FACILITY), threshold=K)
    rates = dict(zip(fig.data[0].y, values(fig, "compliance_rate", axis="x"), strict=True))
    assert rates["South"] == 200 / 255
    assert rates["North"] is None  # no bare 100% point
    (striped,) = ranges(fig)
    north = list(striped.y).index("North")
    low, high = striped.base[north], striped.base[north] + striped.x[north]
    assert low < 56 / 63 < high and high - low > 0.02
    assert " to " in striped.text[north]
    assert "Partial" not in striped.customdata[north][1] and "Between" in striped.customdata[north][1]
    assert "protect privacy" in subtitle(fig)
    assert [t.name for t in fig.data if t.meta and t.meta.get("role") == "key-range"]


def test_rate_by_facility_sorts_lowest_first_and_puts_hidden_facilities_last() -> None:
    rows = [compliance_row(1, 0, passed=40, low=10), compliance_row(2, 0, passed=50, low=5),
            compliance_row(3, 0, passed=2)]
    fig = compliance_rate_by_facility(totals(COMPLIANCE, rows, FACILITY), threshold=K)
    assert list(fig.layout.yaxis.categoryarray) == ["North", "South", "East"]
    assert hidden_positions(fig) == ["East"]


def test_violations_stack_below_the_failed_line_when_severities_are_hidden() -> None:
    rows = [compliance_row(1, 0, passed=100, low=5, medium=7, high=4, critical=4),
            compliance_row(2, 0, passed=100, low=10, medium=10, high=6, critical=5)]
    fig = violations_by_month(totals(COMPLIANCE, rows, ["month"]), threshold=K)
    assert values(fig, "failed") == [51.0]
    assert values(fig, "violations_low") == [10.0]  # North's levels are all hidden (two of them below 5)
    assert partials(fig)  # dotted: each level left North out
    (marks,) = marked_traces(fig, SUPPRESSED_TRACE)
    assert "Severity breakdown is incomplete" in marks.hovertemplate and "Low: 11 to 27" in marks.customdata[0]
    assert fig.layout.barmode == "stack"


def test_average_score_is_a_line_with_hidden_months_marked() -> None:
    rows = [compliance_row(1, 0, passed=40, low=2), compliance_row(1, 1, passed=3)]
    fig = avg_score_trend(totals(COMPLIANCE, rows, ["month"]), threshold=K)
    assert values(fig, "avg_score") == [88.5, None]
    assert hidden_positions(fig) == ["2024-02"]


def test_empty() -> None:
    assert is_empty(violations_by_month(totals(COMPLIANCE, [], ["month"]), threshold=K))
    assert is_empty(compliance_rate_by_facility(totals(COMPLIANCE, [], FACILITY), threshold=K))
