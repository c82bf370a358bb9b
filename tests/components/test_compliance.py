import pandas as pd
import pytest

from components import compliance, theme
from components.figures import is_empty


def test_compliance_rate_by_facility_sorted_with_suppressed_last(
    compliance_df, threshold, trace, placeholders, subtitle
):
    fig = compliance.compliance_rate_by_facility(compliance_df, threshold=threshold)
    bars = trace(fig, "Compliance rate")
    assert list(bars.y) == ["South", "North", "East"]  # lowest rate first, suppressed last
    assert list(bars.x) == [0.75, 0.9, None]
    assert list(bars.text) == ["75.0%", "90.0%", ""]
    assert list(fig.layout.yaxis.categoryarray) == ["South", "North", "East"]
    assert placeholders(fig) == ["East"]
    assert fig.layout.xaxis.tickformat == ".0%"
    assert "%{x:.1%}" in bars.hovertemplate
    assert bars.customdata[0][0] == "30" and bars.customdata[0][1] == "40"
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_compliance_rate_is_recomputed_over_published_rows_when_totalling(compliance_df, threshold, trace):
    df = compliance_df.assign(facility_id=1, facility_name="North")
    fig = compliance.compliance_rate_by_facility(df, threshold=threshold)
    # (45 + 30) / (50 + 40): East's checks are published but its passed is hidden, so that row is left out
    assert trace(fig, "Compliance rate").x == (pytest.approx(75 / 90),)


def test_violations_by_month_stacks_severities_and_marks_hidden_parts(compliance_df, threshold, trace, subtitle):
    fig = compliance.violations_by_month(compliance_df, threshold=threshold)
    assert [t.name for t in fig.data[:4]] == ["Low", "Medium", "High", "Critical"]
    assert trace(fig, "Low").marker.color == theme.SEVERITY_COLORS["low"]
    assert trace(fig, "Critical").marker.color == theme.SEVERITY_COLORS["critical"]
    assert list(trace(fig, "Low").y) == [5, 6, 0]
    assert list(trace(fig, "Medium").y) == [0, None, 0]
    assert list(trace(fig, "High").y) == [0, None, 0]
    assert fig.layout.barmode == "stack"
    marks = trace(fig, "Suppressed (fewer than 5)")
    assert list(marks.x) == ["2026-02"]
    assert marks.y[0] > 6  # drawn above the visible stack, never at zero
    assert marks.customdata[0] == "Medium, High"
    assert marks.marker.symbol == "x-thin-open"
    assert "suppressed: fewer than 5 (shown as x marks" in subtitle(fig)


def test_avg_score_trend(compliance_df, threshold, trace, placeholders):
    fig = compliance.avg_score_trend(compliance_df, threshold=threshold)
    line = trace(fig, "Average score")
    assert list(line.x) == ["2026-01", "2026-02", "2026-03"]
    assert list(line.y) == [88.0, 75.5, None]
    assert placeholders(fig) == ["2026-03"]
    assert list(fig.layout.yaxis.range) == [0, 102]
    assert "%{y:,.1f}" in line.hovertemplate


def test_avg_score_is_weighted_by_checks_when_totalling(compliance_df, threshold, trace):
    df = compliance_df.assign(month=pd.Timestamp("2026-01-01"))
    line = trace(compliance.avg_score_trend(df, threshold=threshold), "Average score")
    assert line.y[0] == pytest.approx((88.0 * 50 + 75.5 * 40) / 90)


@pytest.mark.parametrize(
    "builder", [compliance.compliance_rate_by_facility, compliance.violations_by_month, compliance.avg_score_trend]
)
def test_compliance_empty_state(builder, compliance_df):
    fig = builder(compliance_df.iloc[0:0], threshold=5)
    assert is_empty(fig)
    assert fig.layout.annotations[0].text == "<b>No data for this selection</b>"
