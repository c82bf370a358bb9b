"""The totals contract: what every figure built from published cells says about itself (docs/PRIVACY.md, "Totals").

`data.totals.aggregate_published` returns one row per group with, for each figure `f`:

- `f`: the value from published cells (None/NaN when not published);
- `f__status`: `published`, `suppressed` (every cell it could use was hidden) or `undefined` (nothing to
  compute: no hires so no time to fill, no previous month so no growth);
- `f__excluded`: hidden cells among those the figure reads, left out;
- `f__low`, `f__high`: the range the published data allows for the figure over the whole group (inf when
  unbounded);
- `f__left_out`: at least this share of the figure's base (its denominator, its weight, or for a sum the summed
  quantity) was left out; for money, whose hidden amounts have no upper bound, at most this share of the counts
  it follows (invoices, placements);
- `f__used`: rows of the group that the figure used;

plus `rows` (base rows in the group), `excluded_cells` and `partial` for the whole row. This module is the one
place that reads those columns and decides how a figure may be shown (`shown`), so the charts, tables, tiles, the
API and the exports never guess whether a null is suppressed or undefined, or whether a partial figure may be drawn
as a point. It is pure and small: components may import it.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

STATUS, EXCLUDED, LOW, HIGH, LEFT_OUT, USED = "__status", "__excluded", "__low", "__high", "__left_out", "__used"
ROWS, EXCLUDED_CELLS, PARTIAL = "rows", "excluded_cells", "partial"
# A partial figure is drawn as a point only when the range the published data allows is at most this wide: two
# percentage points for a rate, two per cent of the value for anything else; money, whose hidden amounts have no
# upper bound, when at most two per cent of its invoices and placements were left out. Otherwise it is shown as
# the range ("at least ..." when unbounded).
RATE_TOLERANCE = 0.02
RELATIVE_TOLERANCE = 0.02


class Status(StrEnum):
    PUBLISHED = "published"
    SUPPRESSED = "suppressed"
    UNDEFINED = "undefined"


class Shown(StrEnum):
    """How a figure may be shown."""

    POINT = "point"  # its value (with a partial mark when cells were left out)
    RANGE = "range"  # the range the published data allows, never a bare point
    SUPPRESSED = "suppressed"  # a small fixed-size mark saying so
    UNDEFINED = "undefined"  # nothing (a gap, an empty cell)


def detail_columns(field: str) -> list[str]:
    return [f"{field}{suffix}" for suffix in (STATUS, EXCLUDED, LOW, HIGH, LEFT_OUT, USED)]


def status(frame: pd.DataFrame, field: str) -> np.ndarray:
    return frame[f"{field}{STATUS}"].to_numpy(dtype=object)


def excluded(frame: pd.DataFrame, field: str) -> np.ndarray:
    return frame[f"{field}{EXCLUDED}"].to_numpy(dtype=np.int64)


def bounds(frame: pd.DataFrame, field: str) -> tuple[np.ndarray, np.ndarray]:
    return (frame[f"{field}{LOW}"].to_numpy(dtype=np.float64), frame[f"{field}{HIGH}"].to_numpy(dtype=np.float64))


def left_out(frame: pd.DataFrame, field: str) -> np.ndarray:
    return frame[f"{field}{LEFT_OUT}"].to_numpy(dtype=np.float64)


def used(frame: pd.DataFrame, field: str) -> np.ndarray:
    return frame[f"{field}{USED}"].to_numpy(dtype=np.int64)


def rows(frame: pd.DataFrame) -> np.ndarray:
    return frame[ROWS].to_numpy(dtype=np.int64)


def values(frame: pd.DataFrame, field: str) -> np.ndarray:
    """The figure as float64 with NaN where it is not published."""
    return as_floats(frame[field])


def as_floats(column: pd.Series) -> np.ndarray:
    """A column as float64 with NaN where missing: numbers (counts, nullable counts, rates) directly, anything else
    (money as Decimal objects) through pd.to_numeric, which costs ten times as much."""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.to_numeric(column, errors="coerce").astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def shown(frame: pd.DataFrame, field: str, *, rate: bool, money: bool = False) -> np.ndarray:
    """Per row, how `field` may be shown (a `Shown` value): see RATE_TOLERANCE."""
    state = status(frame, field)
    value = values(frame, field)
    low, high = bounds(frame, field)
    width = high - low
    allowed = RATE_TOLERANCE if rate else RELATIVE_TOLERANCE * np.abs(value)
    tight = (excluded(frame, field) == 0) | (np.isfinite(width) & (width <= allowed + 1e-12))
    if money:
        tight |= left_out(frame, field) <= RELATIVE_TOLERANCE
    out = np.where(tight, Shown.POINT.value, Shown.RANGE.value).astype(object)
    out[state == Status.SUPPRESSED.value] = Shown.SUPPRESSED.value
    out[state == Status.UNDEFINED.value] = Shown.UNDEFINED.value
    return out


