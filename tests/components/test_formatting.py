from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from components import formatting as f


@pytest.mark.parametrize("value", [None, pd.NA, pd.NaT, float("nan"), np.nan, Decimal("NaN")])
def test_missing_values_render_as_a_dash(value):
    assert f.is_missing(value)
    for formatter in (f.fmt_int, f.fmt_percent, f.fmt_currency, f.fmt_days, f.fmt_score, f.fmt_month):
        assert formatter(value) == "—"


def test_zero_is_not_missing():
    assert f.fmt_int(0) == "0"
    assert f.fmt_percent(0.0) == "0.0%"
    assert f.fmt_currency(Decimal("0")) == "$0.00"


def test_integers_have_thousands_separators():
    assert f.fmt_int(1234567) == "1,234,567"
    assert f.fmt_int(np.int64(12)) == "12"
    assert f.fmt_int(12.0) == "12"


@pytest.mark.parametrize("value", [0, -0.0, True, 7, -3.0, 12.5, 13.5, -2.5, 0.49999, 1e15, 2.0**53 - 1, -(2.0**53 - 1),
                                   2.0**53, 2.0**60, np.int64(2**40), np.float64(1234.0), np.float64(-0.5)])
def test_whole_numbers_skip_decimal_rounding_but_read_the_same(value):
    assert f.fmt_int(value) == f"{f._half_up(value, 0):,f}"


@given(value=st.one_of(st.floats(-1e12, 1e12), st.integers(-(10**12), 10**12),
                       st.integers(-(10**6), 10**6).map(lambda n: n / 1000),
                       st.integers(0, 10**5).map(lambda n: n / 10**5)),
       decimals=st.integers(0, 3), scale=st.sampled_from([1, 100]))
@example(value=0.0125, decimals=1, scale=100)  # '0.0125' in decimal, just below in binary: rounds up all the same
@example(value=87.25, decimals=1, scale=1)
@example(value=2.675, decimals=2, scale=1)
@example(value=-0.05, decimals=1, scale=1)
@example(value=-0.0004, decimals=1, scale=100)
@example(value=999999999.95, decimals=1, scale=1)
@example(value=np.float64(0.3333333333), decimals=1, scale=100)
def test_rounding_without_decimals_agrees_with_the_exact_decimal_path(value, decimals, scale):
    assert f._half_up(value, decimals, scale=scale) == f._half_up_exact(value, decimals, scale=scale)
    assert str(f._half_up(value, decimals, scale=scale)) == str(f._half_up_exact(value, decimals, scale=scale))


def test_percent():
    assert f.fmt_percent(0.125) == "12.5%"
    assert f.fmt_percent(1) == "100.0%"
    assert f.fmt_percent(0.12345, decimals=2) == "12.35%"
    assert f.fmt_percent(-0.00001) == "0.0%"


def test_currency_in_dollars_and_cents_rounded_half_up():
    assert f.fmt_currency(Decimal("1234.5")) == "$1,234.50"
    assert f.fmt_currency(Decimal("0.005")) == "$0.01"
    assert f.fmt_currency(1.005) == "$1.01"
    assert f.fmt_currency(-3) == "-$3.00"
    assert f.fmt_currency(Decimal("1234567.89"), cents=False) == "$1,234,568"


def test_days_score_and_signed_values():
    assert f.fmt_days(12.34) == "12.3 days"
    assert f.fmt_score(87.25) == "87.3"
    assert f.fmt_signed_percent(0.25) == "+25.0%"
    assert f.fmt_signed_percent(-0.031) == "-3.1%"
    assert f.fmt_points(0.021) == "+2.1 pp"


def test_months_and_timestamps():
    assert f.fmt_month(pd.Timestamp("2026-11-01")) == "2026-11"
    assert f.fmt_month("2026-11-01") == "2026-11"
    assert f.fmt_datetime(datetime(2026, 11, 29, 14, 0, tzinfo=UTC)) == "2026-11-29 14:00 UTC"
    assert f.fmt_datetime(pd.Timestamp("2026-11-29 09:00", tz="America/New_York")) == "2026-11-29 14:00 UTC"
    assert f.fmt_datetime(datetime(2026, 11, 29, 14, 0)) == "2026-11-29 14:00 UTC"
    assert f.fmt_datetime(datetime(2026, 11, 29, 9, 0, tzinfo=timezone(timedelta(hours=-5)))) == "2026-11-29 14:00 UTC"
    assert f.fmt_month(date(2026, 11, 1)) == f.fmt_month(np.datetime64("2026-11-05")) == "2026-11"


def test_fmt_value_dispatches_by_kind():
    assert f.fmt_value(1234, "int") == "1,234"
    assert f.fmt_value(Decimal("5"), "currency") == "$5.00"
    assert f.fmt_value("North", "text") == "North"
    assert f.fmt_value(None, "text") == "—"


def test_notes_are_plain_and_consistent():
    assert f.hidden_note(11) == "Hidden to protect privacy: fewer than 11."
    assert f.privacy_sentence(5) == "Numbers below 5 are hidden to protect privacy; totals leave them out."
    assert f.partial_note(7, 12, ("month", "months")) == "Partial: 7 of 12 months; 5 with hidden numbers left out."
    assert f.partial_note(0, 1, ("facility", "facilities")).startswith("Partial: 0 of 1 facility;")
    assert f.range_note("21%", "70%") == "Between 21% and 70%: too many hidden numbers to show one value."
    assert f.range_note("1,401", "") == "At least 1,401: hidden numbers left out could add more."


def test_compact_numbers_for_tiles():
    assert f.fmt_compact_currency(717_554_123) == "$717.6M"
    assert f.fmt_compact_currency(48_210) == "$48.2K"
    assert f.fmt_compact_currency(950) == "$950"
    assert f.fmt_compact_currency(None) == "—"
    assert f.fmt_compact_int(1_234_567) == "1.2M" and f.fmt_compact_int(98_765) == "98,765"


