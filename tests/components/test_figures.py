import pandas as pd

from components import figures


def test_month_categories_fill_gaps():
    months = pd.Series(pd.to_datetime(["2026-03-01", "2025-12-01"]))
    assert figures.month_categories(months) == ["2025-12", "2026-01", "2026-02", "2026-03"]


def test_plain_turns_nan_into_none():
    assert figures.plain(pd.Series([1.0, float("nan")])) == [1.0, None]


def test_empty_figure_explains_itself():
    fig = figures.empty_figure("Revenue by month")
    assert figures.is_empty(fig)
    assert fig.layout.title.text == "Revenue by month"
    assert not fig.data


def test_notes_only_when_needed():
    fig = figures.new_figure("x")
    figures.add_notes(fig, threshold=11, suppressed=False, excluded_cells=0)
    assert fig.layout.title.subtitle.text is None
    figures.add_notes(fig, threshold=11, suppressed=True, excluded_cells=2)
    assert fig.layout.title.subtitle.text.startswith("suppressed: fewer than 11")
    assert "partial: 2 hidden cells" in fig.layout.title.subtitle.text


def test_ceiling_ignores_gaps():
    assert figures.ceiling([None, 3.0, float("nan")], default=5) == 3.0
    assert figures.ceiling([None], default=5) == 5
