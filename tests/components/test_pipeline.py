"""components/pipeline.py on totals frames built as production builds them."""

from __future__ import annotations

import math

from components.figures import is_empty
from components.pipeline import applications_hires_by_month, funnel, time_to_fill_by_month
from data.specs import PIPELINE

from .conftest import FACILITY, K, hidden_positions, pipeline_row, ranges, subtitle, totals, values

BIG = {"hired": 20, "rejected": 60, "pending": 40}


def rows() -> list[dict]:
    """North is large every month; South is large in January, has 3 hires in February (hidden with its other
    parts) and hires nobody in March."""
    return [
        pipeline_row(1, 0, **BIG), pipeline_row(1, 1, **BIG), pipeline_row(1, 2, **BIG),
        pipeline_row(2, 0, **BIG), pipeline_row(2, 1, hired=3, rejected=30, pending=20),
        pipeline_row(2, 2, hired=0, rejected=10, pending=10),
    ]


def test_by_month_draws_published_totals_and_marks_what_it_left_out() -> None:
    fig = applications_hires_by_month(totals(PIPELINE, rows(), ["month"]), threshold=K)
    assert values(fig, "applications") == [240.0, 173.0, 140.0]
    hires = values(fig, "hired")
    assert hires[0] == 40.0 and hires[2] == 20.0
    # February's hires left South's hidden 3 out: not a bare point, the range the published numbers allow.
    assert hires[1] is None
    (striped,) = [t for t in ranges(fig) if t.meta["field"] == "hired"]
    # At least North's 20 plus 1, at most 20 plus South's 33 offers (hires never exceed offers).
    assert striped.base[1] == 21.0 and striped.y[1] == 53.0 - 21.0
    assert striped.text[1] == "21 to 53"
    assert "Hire rate: " in fig.data[0].customdata[0][1]
    assert "protect privacy" in subtitle(fig) and 'href="/privacy"' in subtitle(fig)


def test_time_to_fill_leaves_a_gap_where_nobody_was_hired_without_calling_it_hidden() -> None:
    data = totals(PIPELINE, [pipeline_row(1, 0, **BIG), pipeline_row(1, 2, hired=0, rejected=10, pending=10)],
                  ["month"])
    fig = time_to_fill_by_month(data, threshold=K)
    assert values(fig, "time_to_fill_days") == [21.5, None]
    assert hidden_positions(fig) == [] and subtitle(fig) == ""


def test_time_to_fill_marks_a_hidden_month() -> None:
    data = totals(PIPELINE, [pipeline_row(1, 0, **BIG), pipeline_row(1, 1, hired=2, rejected=10, pending=10)],
                  ["month"])
    fig = time_to_fill_by_month(data, threshold=K)
    assert values(fig, "time_to_fill_days")[1] is None
    assert hidden_positions(fig) == ["2024-02"]


def test_funnel_stages_and_conversions_only_between_complete_stages() -> None:
    fig = funnel(totals(PIPELINE, rows(), []), threshold=K)
    stages = values(fig, "applications", axis="x")
    assert stages[0] == 553.0  # every application is published
    labels = list(fig.data[0].y)
    assert labels == ["Applied", "Screened", "Interviewed", "Offered", "Hired"]
    hover = [row[1] for row in fig.data[0].customdata]
    assert "of applied" in hover[1]  # screened is complete, so its share of applications is shown
    assert any(t.meta["field"] == "applications" for t in ranges(fig))  # hires left South's 3 out


def test_a_suppressed_count_is_a_small_mark_never_a_long_bar() -> None:
    data = totals(PIPELINE, [pipeline_row(1, 0, hired=1, rejected=1, pending=1)], [])
    fig = funnel(data, threshold=K)
    assert hidden_positions(fig) == ["Applied", "Screened", "Interviewed", "Offered", "Hired"]
    for trace in fig.data:
        if trace.type == "scatter":
            assert list(trace.x) == [0.0] * 5  # drawn at the axis, whatever the real bars' length


def test_empty_states() -> None:
    empty = totals(PIPELINE, [], ["month"])
    assert is_empty(applications_hires_by_month(empty, threshold=K))
    assert is_empty(time_to_fill_by_month(empty, threshold=K))
    assert is_empty(funnel(totals(PIPELINE, [], []), threshold=K))


def test_builders_read_only_the_totals_frame_of_their_grouping() -> None:
    by_facility = totals(PIPELINE, rows(), FACILITY)
    assert not math.isnan(float(by_facility["conversion_rate"].iloc[0]))
