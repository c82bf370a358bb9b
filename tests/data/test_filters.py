from datetime import date

import pytest

from data.filters import DataFilter, FilterError, build_filter, parse_month


def test_defaults_are_the_last_twelve_months():
    filt = build_filter(today=date(2026, 11, 29))
    assert filt == DataFilter(None, date(2025, 12, 1), date(2026, 11, 1), None)
    assert len(filt.months()) == 12


def test_explicit_values_are_parsed():
    filt = build_filter(["3", 1, "3"], "2026-01", "2026-03", "sms")
    assert filt == DataFilter((1, 3), date(2026, 1, 1), date(2026, 3, 1), "sms")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-13"}, "start must be a month written YYYY-MM"),
        ({"end": "2026/01"}, "end must be a month written YYYY-MM"),
        ({"start": "26-01"}, "YYYY-MM"),
        ({"start": "2026-05", "end": "2026-04"}, "is after end"),
        ({"facility_ids": ["x"]}, "facility_id must be a positive integer"),
        ({"facility_ids": ["1; drop table x"]}, "facility_id must be a positive integer"),
        ({"facility_ids": ["-1"]}, "positive integer"),
        ({"facility_ids": [1.5]}, "positive integer"),
        ({"channel": "fax"}, "channel must be one of"),
    ],
)
def test_bad_filters_raise_filter_error(kwargs, message):
    with pytest.raises(FilterError, match=message):
        build_filter(**kwargs)


def test_filter_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_month("nope")


def test_previous_period_has_the_same_length_and_ends_before_the_start():
    from data.filters import previous_period

    before = previous_period(build_filter([2], "2026-01", "2026-06", "sms"))
    assert before == DataFilter((2,), date(2025, 7, 1), date(2025, 12, 1), "sms")
