import pandas as pd
import pytest

from components import pipeline
from components.figures import is_empty


def test_funnel_totals_stages_and_stage_conversion(pipeline_df, threshold, trace, subtitle):
    fig = pipeline.funnel(pipeline_df, threshold=threshold)
    bars = trace(fig, "Applications")
    assert list(bars.y) == ["Applied", "Screened", "Interviewed", "Offered", "Hired"]
    assert list(bars.x) == [220, 165, 82, 38, 21]
    # hired / offered over the months where both are published: (15 + 6) / (20 + 10)
    assert bars.text[4] == "21 · 70.0% of offered"
    assert bars.text[1] == "165 · 75.0% of applied"
    assert "partial: 1 hidden cell" in bars.customdata[4]
    assert "partial: 1 hidden cell" in subtitle(fig)
    assert fig.layout.title.text == "Hiring funnel"


def test_funnel_marks_a_fully_hidden_stage_instead_of_zero(pipeline_df, threshold, trace, placeholders, subtitle):
    df = pipeline_df.assign(hired=pd.array([None] * 3, dtype="Int64"), suppressed=[["hired"]] * 3)
    fig = pipeline.funnel(df, threshold=threshold)
    assert trace(fig, "Applications").x[4] is None
    assert placeholders(fig) == ["Hired"]
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_funnel_empty_state():
    fig = pipeline.funnel(pd.DataFrame(), threshold=5)
    assert is_empty(fig)
    texts = [a.text for a in fig.layout.annotations]
    assert any("No data for this selection" in t for t in texts)
    assert any("widen" in t for t in texts)
    assert not fig.layout.xaxis.visible


def test_applications_hires_by_month(pipeline_df, threshold, trace, placeholders, subtitle):
    fig = pipeline.applications_hires_by_month(pipeline_df, threshold=threshold)
    apps, hires = trace(fig, "Applications"), trace(fig, "Hires")
    assert list(apps.x) == ["2026-01", "2026-02", "2026-03"]
    assert list(apps.y) == [120, 40, 60]
    assert list(hires.y) == [15, None, 6]
    assert placeholders(fig) == ["2026-02"]
    (mark,) = [t for t in fig.data if t.name.startswith("Suppressed")]
    assert mark.offsetgroup == "hired"
    assert mark.y[0] == 120  # placeholder height = tallest visible bar, not a value
    assert "suppressed: fewer than 5" in mark.hovertemplate
    assert hires.customdata[1][0] == "suppressed"  # hire rate in the hover
    assert hires.customdata[0][0] == "12.5%"
    assert "%{y:,d}" in hires.hovertemplate
    assert fig.layout.barmode == "group"
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_undefined_values_are_gaps_without_suppression_marks(pipeline_df, threshold, trace, placeholders, subtitle):
    df = pipeline_df.assign(
        hired=pd.array([15, 0, 6], dtype="Int64"), time_to_fill_days=[21.5, float("nan"), 30.0], suppressed=[[]] * 3
    )
    fig = pipeline.time_to_fill_by_month(df, threshold=threshold)
    assert list(trace(fig, "Time to fill").y) == [21.5, None, 30.0]
    assert placeholders(fig) == []
    assert subtitle(fig) == ""


def test_time_to_fill_by_month_marks_suppressed_months(pipeline_df, threshold, trace, placeholders, subtitle):
    fig = pipeline.time_to_fill_by_month(pipeline_df, threshold=threshold)
    line = trace(fig, "Time to fill")
    assert list(line.y) == [21.5, None, 30.0]
    assert line.connectgaps is False
    assert placeholders(fig) == ["2026-02"]
    assert fig.layout.yaxis.ticksuffix == " d"
    assert "%{y:,.1f} days" in line.hovertemplate
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_totals_across_facilities_leave_hidden_cells_out_and_say_so(pipeline_df, threshold, trace, subtitle):
    south = pipeline_df.assign(
        facility_id=2,
        facility_name="South",
        hired=pd.array([None, 9, 5], dtype="Int64"),
        suppressed=[["hired"], [], []],
    )
    fig = pipeline.applications_hires_by_month(pd.concat([pipeline_df, south]), threshold=threshold)
    hires = trace(fig, "Hires")
    # January: North 15 + South hidden -> 15 (partial), February: North hidden + South 9 -> 9 (partial)
    assert list(hires.y) == [15, 9, 11]
    assert "partial: 1 hidden cell" in hires.customdata[0][1]
    assert "partial: 2 hidden cells" in subtitle(fig)


@pytest.mark.parametrize(
    "builder", [pipeline.funnel, pipeline.applications_hires_by_month, pipeline.time_to_fill_by_month]
)
def test_pipeline_builders_share_the_template_and_empty_state(builder, pipeline_df):
    assert builder(pipeline_df, threshold=5).layout.template.layout.font.family.startswith("system-ui")
    assert is_empty(builder(pipeline_df.iloc[0:0], threshold=5))
