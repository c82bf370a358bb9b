"""Number and date formats shared by figures, tiles and tables (Python text and the matching d3 formats)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

import pandas as pd

Display = Literal["text", "int", "percent", "currency", "days", "score", "change", "month", "date", "datetime"]

MISSING = "—"
NO_DATA_MESSAGE = "No data for this selection"
NO_DATA_HINT = "Try widening the date range or selecting more facilities."
PRIVACY_PATH = "/privacy"

# The one wording of small-number protection, used by charts, tables, tiles and exports alike.
HIDDEN_TEXT = "hidden"  # a table cell or mark label

# d3 formats for plotly axis ticks, one per kind of number (hover text is formatted in Python).
D3_TICK = {"int": ",~f", "percent": ".0%", "currency": "$,.0f", "days": ",~f", "score": ",~f"}


def is_missing(value: Any) -> bool:
    """True for None, pandas NA/NaT and float NaN."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    return False


_EXACT_INTS = 2**53  # every whole float below this is exactly an int, and its shortest repr is that int


def _half_up(value: Any, decimals: int, *, scale: int = 1) -> Decimal:
    """Round half away from zero in decimal, not binary (87.25 -> 87.3); a rounded zero has no sign.

    A float is rounded as its shortest decimal form (what `str` gives) would be. Most values are far from a tie:
    for them the float product settles it without building Decimals (a thousand-row table formats thousands);
    the rest, near a tie or too large for the float to be that close, take the exact decimal path.
    """
    if isinstance(value, float | int) and not isinstance(value, bool):
        scaled = abs(float(value) * scale * 10**decimals)
        whole = math.floor(scaled)
        if scaled < _FAST_LIMIT and abs(scaled - whole - 0.5) > _TIE_MARGIN:
            rounded = whole + (scaled - whole > 0.5)
            return Decimal(-rounded if value < 0 and rounded else rounded).scaleb(-decimals)
    return _half_up_exact(value, decimals, scale=scale)


# Below _FAST_LIMIT the float product is within 1e-6 of the exact decimal one (a few units in the last place), so
# a fraction farther than _TIE_MARGIN from one half rounds the same way in both.
_FAST_LIMIT = 1e9
_TIE_MARGIN = 1e-6


def _half_up_exact(value: Any, decimals: int, *, scale: int = 1) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(float(value)))
    rounded = (number * scale).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded


def hidden_note(threshold: int) -> str:
    """Why a number is not shown."""
    return f"Hidden to protect privacy: fewer than {threshold}."


def privacy_sentence(threshold: int) -> str:
    """The one short sentence a chart, table or report carries when it hides or leaves out numbers."""
    return f"Numbers below {threshold} are hidden to protect privacy; totals leave them out."


def partial_note(used: int, rows: int, unit: tuple[str, str]) -> str:
    """'Partial: 7 of 12 months; 5 with hidden numbers left out.' (`unit` is singular and plural)."""
    left = rows - used
    noun = unit[0] if rows == 1 else unit[1]
    return f"Partial: {used} of {rows} {noun}; {left} with hidden numbers left out."


def range_note(low: str, high: str) -> str:
    if high == "":
        return f"At least {low}: hidden numbers left out could add more."
    return f"Between {low} and {high}: too many hidden numbers to show one value."


def fmt_compact_currency(value: Any) -> str:
    """Dollars in compact notation for tiles: 717554123 -> '$717.6M', 48210 -> '$48.2K', 950 -> '$950'."""
    if is_missing(value):
        return MISSING
    amount = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"{'-' if amount < 0 else ''}${_half_up(abs(amount) / size, 1):f}{suffix}"
    return fmt_currency(value, cents=False)


def fmt_compact_int(value: Any) -> str:
    """Counts in compact notation for tiles above 100,000: 1234567 -> '1.2M'."""
    if is_missing(value):
        return MISSING
    number = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(number) >= size:
            return f"{_half_up(number / size, 1):f}{suffix}"
    return fmt_int(value)


def fmt_int(value: Any) -> str:
    """12345 -> '12,345'."""
    if is_missing(value):
        return MISSING
    if isinstance(value, int | float) and abs(value) < _EXACT_INTS and float(value).is_integer():
        return f"{int(value):,}"  # what rounding gives, without building a Decimal: most counts are whole
    return f"{_half_up(value, 0):,f}"


def fmt_percent(value: Any, *, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.125 -> '12.5%'."""
    if is_missing(value):
        return MISSING
    return f"{_half_up(value, decimals, scale=100):f}%"


def fmt_currency(value: Any, *, cents: bool = True) -> str:
    """US dollars, rounded half-up: Decimal('1234.5') -> '$1,234.50', -3 -> '-$3.00'."""
    if is_missing(value):
        return MISSING
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        quantum = Decimal("0.01") if cents else Decimal("1")
        amount = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return MISSING
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{2 if cents else 0}f}"


def fmt_days(value: Any, *, decimals: int = 1) -> str:
    """Fractional days: 12.34 -> '12.3 days'."""
    if is_missing(value):
        return MISSING
    return f"{_half_up(value, decimals):,f} days"


def fmt_score(value: Any) -> str:
    """A 0-100 score with one decimal: 87.25 -> '87.3'."""
    if is_missing(value):
        return MISSING
    return f"{_half_up(value, 1):,f}"


def fmt_signed_percent(value: Any, *, decimals: int = 1) -> str:
    """A growth fraction with its sign: 0.25 -> '+25.0%'."""
    if is_missing(value):
        return MISSING
    return f"{_half_up(value, decimals, scale=100):+f}%"


def fmt_points(value: Any, *, decimals: int = 1) -> str:
    """A difference of two fractions in percentage points: 0.021 -> '+2.1 pp'."""
    if is_missing(value):
        return MISSING
    return f"{_half_up(value, decimals, scale=100):+f} pp"


def fmt_month(value: Any) -> str:
    """Any date-like value (or 'YYYY-MM...' text) as 'YYYY-MM'."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value[:7]
    if isinstance(value, date):  # dates, datetimes and pandas Timestamps format themselves
        return value.strftime("%Y-%m")
    return pd.Timestamp(value).strftime("%Y-%m")


def fmt_date(value: Any) -> str:
    if is_missing(value):
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def fmt_datetime(value: Any) -> str:
    """A timestamp in UTC: '2026-11-29 14:00 UTC' (naive values are taken as UTC)."""
    if is_missing(value):
        return MISSING
    if type(value) is datetime:  # what the database gives: no pandas Timestamp needed
        return (value if value.tzinfo is None else value.astimezone(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def fmt_value(value: Any, kind: Display) -> str:
    """Format a value by kind; missing values are '—'."""
    if kind == "text":
        return MISSING if is_missing(value) else str(value)
    return _FORMATTERS[kind](value)


_FORMATTERS = {
    "int": fmt_int,
    "percent": fmt_percent,
    "change": fmt_signed_percent,
    "currency": fmt_currency,
    "days": fmt_days,
    "score": fmt_score,
    "month": fmt_month,
    "date": fmt_date,
    "datetime": fmt_datetime,
}
