from decimal import Decimal

import pandas as pd
import pytest

from components.cells import Mean, Ratio, as_float, hidden, totals


def test_hidden_needs_null_and_a_listing(pipeline_df):
    assert list(hidden(pipeline_df, "hired")) == [False, True, False]
    undefined = pipeline_df.assign(suppressed=[[], [], []])
    assert not hidden(undefined, "hired").any()
    assert not hidden(pipeline_df, "no_such_field").any()


def test_hidden_falls_back_to_partial_without_a_suppressed_column():
    df = pd.DataFrame({"hired": pd.array([None, None], dtype="Int64"), "partial": [True, False]})
    assert list(hidden(df, "hired")) == [True, False]


def test_as_float_handles_nullable_ints_and_decimals():
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "money": [Decimal("2.50"), None]})
    assert as_float(df, "n").tolist()[0] == 1.0 and pd.isna(as_float(df, "n")[1])
    assert as_float(df, "money").tolist()[0] == 2.5 and pd.isna(as_float(df, "money")[1])


def test_totals_pass_through_a_frame_already_unique_on_the_keys(pipeline_df):
    out = totals(pipeline_df, ["month"], sums=["hired"], derived={"conversion_rate": Ratio("hired", "applications")})
    assert out["hired"].tolist()[0] == 15 and pd.isna(out["hired"][1])
    assert out["suppressed"].tolist() == [[], ["hired", "conversion_rate"], []]
    assert out["partial"].tolist() == [False, False, False]


def test_totals_sum_published_cells_and_count_the_rest(pipeline_df):
    df = pd.concat([pipeline_df, pipeline_df.assign(facility_id=2)])
    out = totals(
        df,
        ["month"],
        sums=["applications", "hired"],
        derived={"rate": Ratio("hired", "applications"), "ttf": Mean("time_to_fill_days", "hired")},
    )
    feb = out.iloc[1]
    assert pd.isna(feb["hired"]) and "hired" in feb["suppressed"] and "rate" in feb["suppressed"]
    assert feb["applications"] == 80
    assert feb["excluded_cells"] == 4  # hired and time_to_fill_days, in two facilities
    assert bool(feb["partial"])
    jan = out.iloc[0]
    assert jan["rate"] == pytest.approx(30 / 240) and jan["ttf"] == pytest.approx(21.5)
    assert not jan["partial"] and jan["excluded_cells"] == 0


def test_totals_of_a_pre_aggregated_frame_use_its_excluded_cells():
    df = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-01-01", "2026-01-01"]),
            "hired": [3.0, None],
            "partial": [True, True],
            "excluded_cells": [2, 1],
        }
    )
    out = totals(df, ["month"], sums=["hired"])
    assert out["hired"].tolist() == [3.0]
    assert out["excluded_cells"].tolist() == [3]


def test_totals_of_an_empty_frame():
    assert totals(pd.DataFrame(columns=["month", "hired"]), ["month"], sums=["hired"]).empty


def test_suppressed_lists_may_be_tuples():
    df = pd.DataFrame({"hired": pd.array([None], dtype="Int64"), "suppressed": [("applications", "hired")]})
    assert hidden(df, "hired").tolist() == [True]


def test_frames_totalled_by_the_data_layer_have_no_suppressed_list():
    # data.totals.aggregate_published returns partial / excluded_cells and no `suppressed` column
    df = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-01-01", "2026-02-01"]),
            "hired": pd.array([None, 7], dtype="Int64"),
            "partial": [True, False],
            "excluded_cells": [3, 0],
        }
    )
    out = totals(df, ["month"], sums=["hired"])
    assert out["suppressed"].tolist() == [["hired"], []]
    assert out["excluded_cells"].tolist() == [3, 0]
