import numpy as np
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


def view_of(shown: list[str], values: list[float], low: list[float], high: list[float]) -> figures.FieldView:
    from data.specs import PIPELINE

    n = len(shown)
    return figures.FieldView(PIPELINE.column("conversion_rate"), np.array(values, dtype=float), np.array(shown),
                             np.array(low, dtype=float), np.array(high, dtype=float), np.full(n, 7), np.full(n, 12))


def test_field_view_writes_each_kind_of_value_in_plain_words():
    view = view_of(["point", "point", "range", "suppressed", "undefined"], [0.125, 0.5, 0.4, np.nan, np.nan],
                   [0.125, 0.45, 0.21, np.nan, np.nan], [0.125, 0.46, 0.7, np.nan, np.nan])
    assert [view.text(i) for i in range(5)] == ["12.5%", "50.0%", "21.0% to 70.0%", "hidden", "—"]
    assert list(view.partial) == [False, True, False, False, False]
    unit = ("month", "months")
    assert view.note(0, unit, 5) == ""
    assert view.note(1, unit, 5) == "Partial: 7 of 12 months; 5 with hidden numbers left out."
    assert view.note(2, unit, 5).startswith("Between 21.0% and 70.0%")
    assert view.note(3, unit, 5) == "Hidden to protect privacy: fewer than 5."


def test_privacy_note_only_when_something_was_hidden_or_left_out():
    fig = figures.new_figure("x")
    figures.add_value_bars(fig, ["a", "b"], view_of(["point", "point"], [0.1, 0.2], [0.1, 0.2], [0.1, 0.2]),
                           name="Rate", color="#000", unit=("month", "months"), threshold=11)
    figures.add_privacy_note(fig, 11)
    assert fig.layout.title.subtitle.text is None
    figures.add_hidden_marks(fig, ["c"], threshold=11, what="Rate")
    figures.add_privacy_note(fig, 11)
    assert fig.layout.title.subtitle.text.startswith("Numbers below 11 are hidden to protect privacy")
    assert 'href="/privacy"' in fig.layout.title.subtitle.text
