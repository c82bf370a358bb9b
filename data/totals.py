"""Totals built only from published (masked) cells, each saying what it left out (docs/PRIVACY.md, "Totals").

Every figure here is a function of published cells alone, so whatever selection a viewer totals ({A, B}, then
{A}), the difference is a function of published cells too and reveals no hidden one. That is why these
functions refuse unmasked frames (no `suppressed` column) and never look at hidden values: a hidden cell is
recognised by its row's `suppressed` list, not by its value. The ranges a partial figure may have are worked out
from published values and the public rules alone (a hidden count is at least 1, parts add up to their whole, a
rate lies in [0, 1]), so they reveal nothing an attacker could not compute.

Rules: a sum adds the published cells (None when there is none); a ratio divides sums taken over the same
rows, those where numerator and denominator are both published; an average is weighted by its count over the
rows where both are published. What each figure left out, whether it is published, suppressed or undefined, and
the range it may have is the contract of data/contract.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from data.contract import (
    EXCLUDED,
    EXCLUDED_CELLS,
    HIGH,
    LEFT_OUT,
    LOW,
    PARTIAL,
    ROWS,
    STATUS,
    USED,
    Shown,
    Status,
    as_floats,
    shown,
)
from data.masking import SUPPRESSED, MaskResult, previous_row_positions, suppressed_matrix
from data.specs import DATASETS, Aggregation, Column, DatasetSpec, Kind

# kpis field -> (dataset, column it aggregates). Field names are public (the API's kpis dataset, docs/KPIS.md).
KPI_FIELDS: dict[str, tuple[str, str]] = {
    "applications": ("pipeline", "applications"),
    "hired": ("pipeline", "hired"),
    "hire_rate": ("pipeline", "conversion_rate"),
    "time_to_fill_days": ("pipeline", "time_to_fill_days"),
    "checks": ("compliance", "checks"),
    "passed": ("compliance", "passed"),
    "compliance_rate": ("compliance", "compliance_rate"),
    "revenue": ("revenue", "revenue"),
    "placements": ("revenue", "placements"),
    "sent": ("outreach", "sent"),
    "responded": ("outreach", "responded"),
    "response_rate": ("outreach", "response_rate"),
    "outreach_conversion_rate": ("outreach", "conversion_rate"),
}

Masked = MaskResult | pd.DataFrame


def aggregate_published(
    masked: Masked,
    by: Sequence[str],
    spec: DatasetSpec,
    *,
    columns: Sequence[str] | None = None,
    threshold: int | None = None,
    rows: RowState | None = None,
) -> pd.DataFrame:
    """Group a masked frame by `by` and rebuild `columns` (default: all aggregable ones) from published cells.

    One row per group, sorted by the group keys (one row in all when `by` is empty, even for an empty frame),
    with the `by` columns, each figure (counts as Int64, money as Decimal or None, rates and averages as float)
    followed by its contract columns (data/contract.py), then `rows`, `excluded_cells` and `partial`. Growth is
    rebuilt only when the period column is in `by` (undefined otherwise). `threshold` is the masker's k: a hidden
    count that belongs to no group was hidden for being below it, which narrows the ranges.
    """
    frame = _masked_frame(masked)
    by = list(by)
    outputs = _output_columns(spec, columns)
    if by:
        codes = _group_codes(frame, by)
        _, first = np.unique(codes, return_index=True)
        n_groups = len(first)
        keys = frame[by].iloc[first].reset_index(drop=True)
        columns: dict[str, Any] = {name: keys[name] for name in by}
    else:
        codes, n_groups = np.zeros(len(frame), dtype=np.int64), 1
        columns = {}
    agg = _Aggregator(frame, spec, codes, n_groups, threshold, rows)
    growth = spec.period is not None and spec.period in by
    for col in outputs:
        columns.update(agg.figure(col, growth=growth))
    columns[ROWS] = np.bincount(codes, minlength=n_groups).astype(np.int64)
    excluded = agg.excluded(_read_columns(spec, outputs))
    columns[EXCLUDED_CELLS] = excluded
    columns[PARTIAL] = excluded > 0
    # One frame built from all its columns at once: assigning them one by one cost more than the sums.
    return pd.DataFrame(columns, index=pd.RangeIndex(n_groups))


def _group_codes(frame: pd.DataFrame, by: list[str]) -> np.ndarray:
    """Each row's group number, groups numbered in key order (what `groupby(by, sort=True).ngroup()` gives). One
    key of whole numbers or of dates with none missing (a trend by month) is numbered by numpy, in a fifth of
    pandas' time."""
    if len(by) == 1:
        keys = frame[by[0]].to_numpy()
        if keys.dtype.kind == "i" or (keys.dtype.kind == "M" and not np.isnat(keys).any()):
            return np.unique(keys, return_inverse=True)[1].reshape(-1).astype(np.int64)
    return frame.groupby(by, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)


def kpi_totals(frames: Mapping[str, Masked], *, threshold: int | None = None,
               rows: Mapping[str, RowState] | None = None) -> dict[str, Any]:
    """The kpis row (docs/KPIS.md) from masked frames keyed by dataset; a dataset not given yields undefined fields.

    Values are plain Python (int, float, Decimal, None). `details` gives, per field, its status, the hidden cells
    it left out, the range the published data allows, the share of its base left out and how it may be shown;
    `partial` and `excluded_cells` cover every field.
    """
    unknown = set(frames) - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown datasets {sorted(unknown)}")
    row: dict[str, Any] = dict.fromkeys(KPI_FIELDS)
    details: dict[str, dict[str, Any]] = {
        field: {"status": Status.UNDEFINED.value, "excluded_cells": 0, "low": None, "high": None, "left_out": None,
                "shown": Shown.UNDEFINED.value}
        for field in KPI_FIELDS
    }
    excluded = 0
    for name, masked in frames.items():
        spec = DATASETS[name]
        fields = {field: column for field, (dataset, column) in KPI_FIELDS.items() if dataset == name}
        totals = aggregate_published(masked, [], spec, columns=list(fields.values()), threshold=threshold,
                                     rows=(rows or {}).get(name))
        for field, column in fields.items():
            row[field] = _plain(totals.at[0, column])
            details[field] = {
                "status": totals.at[0, f"{column}{STATUS}"],
                "excluded_cells": int(totals.at[0, f"{column}{EXCLUDED}"]),
                "low": _finite(totals.at[0, f"{column}{LOW}"]),
                "high": _finite(totals.at[0, f"{column}{HIGH}"]),
                "left_out": _finite(totals.at[0, f"{column}{LEFT_OUT}"]),
                "shown": shown(totals, column, rate=is_rate(spec.column(column)),
                               money=spec.column(column).kind is Kind.MONEY)[0],
            }
        excluded += int(totals.at[0, EXCLUDED_CELLS])
    row[PARTIAL] = excluded > 0
    row[EXCLUDED_CELLS] = excluded
    row["details"] = details
    return row


def is_rate(col: Column) -> bool:
    """A figure bounded to [0, 1] (shown in percentage points)."""
    return col.kind is Kind.DERIVED and col.limits == (0.0, 1.0)


def _masked_frame(masked: Masked) -> pd.DataFrame:
    frame = masked.frame if isinstance(masked, MaskResult) else masked
    if SUPPRESSED not in frame.columns:
        raise ValueError("totals are built from masked frames only (no 'suppressed' column)")
    return frame


def _output_columns(spec: DatasetSpec, columns: Sequence[str] | None) -> list[Column]:
    if columns is None:
        return [c for c in spec.fields if c.aggregation is not Aggregation.NONE]
    out = [spec.column(name) for name in columns]
    bad = [c.name for c in out if c.aggregation is Aggregation.NONE]
    if bad:
        raise ValueError(f"{spec.name}: columns {bad} cannot be aggregated")
    return out


def _read_columns(spec: DatasetSpec, outputs: list[Column]) -> list[str]:
    """The columns whose cells the figures add up, in spec order, each once."""
    read: set[str] = set()
    for col in outputs:
        read.update(_reads(col))
    return [c for c in spec.columns if c in read]


def _reads(col: Column) -> tuple[str, ...]:
    agg = col.aggregation
    if agg is Aggregation.SUM:
        return (col.name,)
    if agg is Aggregation.RATIO:
        return (col.numerator or "", col.denominator or "")
    if agg is Aggregation.MEAN:
        return (col.name, col.denominator or "")
    if agg is Aggregation.GROWTH:
        return col.inputs
    return ()


def _plain(value: Any) -> Any:
    """A pandas/numpy scalar as plain Python, NA/NaN as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _finite(value: Any) -> float | None:
    number = _plain(value)
    return float(number) if number is not None and np.isfinite(number) else None


def row_bounds(
    frame: pd.DataFrame, spec: DatasetSpec, hidden: Mapping[str, np.ndarray], threshold: int | None = None,
    values: Callable[[str], np.ndarray] | None = None,
) -> dict[str, tuple]:
    """Per value column, the least and greatest value each cell can have given the published cells of its row.

    A published cell is its own bound. A hidden count is at least 1 (the masker hides only non-zero counts), at
    most k - 1 when it belongs to no group (only primary suppression hides those), and bounded by its row's group
    equations and order relations, propagated a few times (sound, if not always tight); any other hidden cell
    lies within its column's `limits`. A hidden group total that is no part of another group was hidden for being
    below k, for equalling its only non-zero part, or for its hidden parts adding up to at most one more than the
    least they can (data/masking.py); every non-zero part is hidden with it, so it is at most the larger of k - 1
    and one more than that least (`_hidden_total_cap`).
    """
    grouped = {m for g in spec.groups for m in g.members}
    parts_elsewhere = {p for g in spec.groups for p in g.parts}
    top_wholes = {g.whole: _hidden_total_cap(g, spec) for g in spec.groups if g.whole not in parts_elsewhere}
    n = len(frame)
    low: dict[str, np.ndarray] = {}
    high: dict[str, np.ndarray] = {}
    for col in spec.fields:
        if col.name not in hidden:
            continue
        gone = hidden[col.name]
        value = values(col.name) if values is not None else as_floats(frame[col.name])
        floor = 1.0 if col.kind is Kind.COUNT else col.limits[0]
        ceiling = col.limits[1]
        if col.kind is Kind.COUNT and threshold is not None and col.name not in grouped:
            ceiling = float(threshold - 1)
        elif col.kind is Kind.COUNT and threshold is not None and col.name in top_wholes:
            ceiling = float(max(threshold - 1, top_wholes[col.name]))
        low[col.name] = np.where(gone, floor, value)
        high[col.name] = np.where(gone, ceiling, value)
    for _ in range(3):
        for group in spec.groups:
            whole, parts = group.whole, group.parts
            low_sum = sum(low[p] for p in parts)
            high_sum = sum(high[p] for p in parts)
            low[whole] = np.where(hidden[whole], np.maximum(low[whole], low_sum), low[whole])
            high[whole] = np.where(hidden[whole], np.minimum(high[whole], high_sum), high[whole])
            for p in parts:
                others_low = sum(low[q] for q in parts if q != p) if len(parts) > 1 else np.zeros(n)
                others_high = sum(high[q] for q in parts if q != p) if len(parts) > 1 else np.zeros(n)
                with np.errstate(invalid="ignore"):
                    up = high[whole] - others_low
                    down = np.where(np.isfinite(others_high), low[whole] - others_high, -np.inf)
                low[p] = np.where(hidden[p], np.maximum(low[p], down), low[p])
                high[p] = np.where(hidden[p], np.minimum(high[p], up), high[p])
        for larger, smaller in spec.orders:
            high[smaller] = np.where(hidden[smaller], np.minimum(high[smaller], high[larger]), high[smaller])
            low[larger] = np.where(hidden[larger], np.maximum(low[larger], low[smaller]), low[larger])
    return {name: (low[name], high[name]) for name in low}


def _hidden_total_cap(group: Any, spec: DatasetSpec) -> int:
    """One more than the most the least sum of a group's hidden parts can be: 1 per simple part, and for a part
    that is itself a group total (all of whose non-zero parts are hidden with it) 1 per part of that group."""
    wholes = {g.whole: g for g in spec.groups}
    return 1 + sum(len(wholes[p].parts) if p in wholes else 1 for p in group.parts)


class RowState:
    """What the figures of one masked frame read row by row, whatever the grouping: hidden flags, each cell's
    bounds, float values, published flags and each row's previous period. Built once per frame and shared by its
    groupings (a page's charts, the overview's trend and totals), it was a third of every aggregation."""

    def __init__(self, masked: Masked, spec: DatasetSpec, threshold: int | None) -> None:
        frame = _masked_frame(masked)
        self.frame, self.spec, self.threshold = frame, spec, threshold
        self.hidden = suppressed_matrix(frame, spec.value_columns)
        for name in spec.count_columns:
            # A null count is never undefined: whatever the list says, it was not published.
            self.hidden[name] = self.hidden[name] | frame[name].isna().to_numpy()
        self._values: dict[str, np.ndarray] = {}
        self._published: dict[str, np.ndarray] = {}
        self.bounds = row_bounds(frame, spec, self.hidden, threshold, values=self.values)
        self._prev: np.ndarray | None = None

    def published(self, name: str) -> np.ndarray:
        """Rows where `name` is published (a fresh array: callers may change it)."""
        flags = self._published.get(name)
        if flags is None:
            flags = self._published[name] = ~self.hidden[name] & self.frame[name].notna().to_numpy()
        return flags.copy()

    def values(self, name: str) -> np.ndarray:
        """The column as floats (NaN where missing); shared: callers never change it."""
        values = self._values.get(name)
        if values is None:
            values = self._values[name] = as_floats(self.frame[name])
        return values

    def previous(self) -> np.ndarray:
        if self._prev is None:
            self._prev = previous_row_positions(self.frame, self.spec)
        return self._prev


def row_state(masked: Masked, spec: DatasetSpec, *, threshold: int | None = None) -> RowState:
    """The per-row work of aggregating `masked`, to pass to several aggregate_published calls on the same frame."""
    return RowState(masked, spec, threshold)


class _Aggregator:
    """Per-group figures of one masked frame and one grouping, with their contract columns."""

    def __init__(self, frame: pd.DataFrame, spec: DatasetSpec, codes: np.ndarray, n_groups: int,
                 threshold: int | None, rows: RowState | None = None) -> None:
        if rows is None:
            rows = RowState(frame, spec, threshold)
        elif rows.frame is not frame or rows.spec is not spec or rows.threshold != threshold:
            raise ValueError("a RowState serves only the frame, spec and threshold it was built for")
        self.frame, self.spec, self.codes, self.n_groups = frame, spec, codes, n_groups
        self.rows = rows
        self.hidden = rows.hidden
        self.bounds = rows.bounds

    def published(self, name: str) -> np.ndarray:
        return self.rows.published(name)

    def excluded(self, names: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.n_groups, dtype=np.int64)
        for name in names:
            out += self._count(self.hidden[name])
        return out

    def figure(self, col: Column, *, growth: bool) -> dict[str, Any]:
        agg = col.aggregation
        if agg is Aggregation.SUM:
            return self._sum_figure(col)
        if agg is Aggregation.RATIO:
            return self._ratio_figure(col)
        if agg is Aggregation.MEAN:
            return self._mean_figure(col)
        if agg is Aggregation.GROWTH:
            return self._growth_figure(col) if growth else self._undefined(col)
        raise ValueError(f"{col.name} cannot be aggregated")

    # --- the four kinds of figure

    def _sum_figure(self, col: Column) -> dict[str, Any]:
        published, gone = self.published(col.name), self.hidden[col.name]
        value = self._sum(col.name, published)
        exact = self._float_sums(self._values(col.name), published)
        low_b, high_b = self.bounds[col.name]
        hidden_low = self._float_sums(low_b, gone)
        with np.errstate(invalid="ignore", divide="ignore"):
            left_out = hidden_low / (exact + hidden_low)
        if col.kind is Kind.MONEY:
            left_out = self._money_left_out(col, gone)
        return self._contract(col, value, self._count(published) > 0, gone,
                              exact + hidden_low, exact + self._float_sums(high_b, gone), left_out, published)

    def _money_left_out(self, col: Column, gone: np.ndarray) -> np.ndarray:
        """For money, whose hidden amounts have no upper bound: at most this share of the counts it follows
        (invoices, placements) is in the rows it left out."""
        shares = []
        for name in col.inputs:
            if self.spec.column(name).kind is not Kind.COUNT:
                continue
            kept = self._float_sums(self._values(name), ~gone & self.published(name))
            _, high = self.bounds[name]
            left = self._float_sums(high, gone)
            with np.errstate(invalid="ignore", divide="ignore"):
                shares.append(np.where(left > 0, left / (kept + left), 0.0))
        return np.maximum.reduce(shares) if shares else np.full(self.n_groups, np.nan)

    def _ratio_figure(self, col: Column) -> dict[str, Any]:
        assert col.numerator is not None and col.denominator is not None
        num, den = col.numerator, col.denominator
        both = self.published(num) & self.published(den)
        numerator, denominator = self._sum(num, both), self._sum(den, both)
        value = self._divide(col, numerator, denominator)
        n_used = self._float_sums(self._values(num), both)
        d_used = self._float_sums(self._values(den), both)
        out_rows = self.hidden[num] | self.hidden[den]
        (n_low, n_high), (d_low, d_high) = self.bounds[num], self.bounds[den]
        n_lo, n_hi = self._float_sums(n_low, out_rows), self._float_sums(n_high, out_rows)
        d_lo, d_hi = self._float_sums(d_low, out_rows), self._float_sums(d_high, out_rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            low = (n_used + n_lo) / (d_used + d_hi)
            high = (n_used + n_hi) / (d_used + d_lo)
            left_out = d_lo / (d_used + d_lo)
        low = np.clip(np.where(np.isnan(low), col.limits[0], low), *col.limits)
        high = np.clip(np.where(np.isnan(high), col.limits[1], high), *col.limits)
        cells = self.hidden[num].astype(np.int64) + self.hidden[den].astype(np.int64)
        return self._contract(col, value, d_used > 0, out_rows, low, high, left_out, both, cells=cells)

    def _mean_figure(self, col: Column) -> dict[str, Any]:
        assert col.denominator is not None
        weight_name = col.denominator
        used = self.published(col.name) & self.published(weight_name)
        weights, values = self._values(weight_name), self._values(col.name)
        used &= weights > 0
        weighted = self._float_sums(values * weights, used)
        total = self._float_sums(weights, used)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = weighted / total
        value = pd.Series(np.where(total > 0, mean, np.nan), dtype="float64")
        out_rows = self.hidden[col.name]
        w_low, w_high = self.bounds[weight_name]
        w_lo, w_hi = self._float_sums(w_low, out_rows), self._float_sums(w_high, out_rows)
        least, most = col.limits
        with np.errstate(invalid="ignore", divide="ignore"):
            toward_least = np.where(np.isfinite(w_hi), (weighted + least * w_hi) / (total + w_hi), least)
            toward_most = np.where(np.isfinite(w_hi) & np.isfinite(most),
                                   (weighted + most * w_hi) / (total + w_hi), most)
            left_out = w_lo / (total + w_lo)
        partial = self._count(out_rows) > 0
        low = np.clip(np.where(partial, np.fmin(toward_least, mean), mean), *col.limits)
        high = np.clip(np.where(partial, np.fmax(toward_most, mean), mean), *col.limits)
        cells = self.hidden[col.name].astype(np.int64) + self.hidden[weight_name].astype(np.int64)
        return self._contract(col, value, total > 0, out_rows, low, high, left_out, used, cells=cells)

    def _growth_figure(self, col: Column) -> dict[str, Any]:
        """(sum this - sum previous) / sum previous over series with both periods published."""
        (source,) = col.inputs
        prev = self.rows.previous()
        published = self.published(source)
        has_prev = prev >= 0
        rows = published & has_prev
        rows[rows] = published[prev[rows]]
        gone_prev = np.zeros_like(has_prev)
        gone_prev[has_prev] = self.hidden[source][prev[has_prev]]
        out_rows = has_prev & (self.hidden[source] | gone_prev)
        values = self.frame[source].to_numpy(dtype=object)
        current: list[Any] = [0] * self.n_groups
        previous: list[Any] = [0] * self.n_groups
        for i in np.flatnonzero(rows).tolist():
            code = self.codes[i]
            current[code] += values[i]
            previous[code] += values[prev[i]]
        value = pd.Series([float((c - p) / p) if p != 0 else np.nan for c, p in zip(current, previous, strict=True)],
                          dtype="float64")
        defined = value.notna().to_numpy()
        partial = self._count(out_rows) > 0
        low = np.where(partial, col.limits[0], value.to_numpy())
        high = np.where(partial, col.limits[1], value.to_numpy())
        left_out = np.where(partial, np.nan, 0.0)
        return self._contract(col, value, defined, out_rows, low, high, left_out, rows)

    def _undefined(self, col: Column) -> dict[str, Any]:
        nothing = np.zeros(len(self.frame), dtype=bool)
        nan = np.full(self.n_groups, np.nan)
        return self._contract(col, pd.Series(nan, dtype="float64"), np.zeros(self.n_groups, dtype=bool), nothing,
                              nan, nan, nan, nothing)

    # --- helpers

    def _contract(self, col: Column, value: pd.Series, defined: np.ndarray, out_rows: np.ndarray, low: np.ndarray,
                  high: np.ndarray, left_out: np.ndarray, used_rows: np.ndarray, *,
                  cells: np.ndarray | None = None) -> dict[str, Any]:
        """The figure and its contract columns; `defined` says where a value could be computed from published
        cells, `out_rows` which rows it left out because of hidden cells."""
        left = self._count(out_rows) > 0
        status = np.where(defined, Status.PUBLISHED.value,
                          np.where(left, Status.SUPPRESSED.value, Status.UNDEFINED.value)).astype(object)
        excluded = self._count(out_rows if cells is None else cells)
        exact = ~left & defined
        numeric = as_floats(value)
        low = np.where(exact, numeric, low)
        high = np.where(exact, numeric, high)
        return {
            col.name: value.array,  # numbered 0..n_groups - 1 already: the frame takes the values as they are
            f"{col.name}{STATUS}": status,
            f"{col.name}{EXCLUDED}": excluded,
            f"{col.name}{LOW}": np.where(defined, low, np.nan),
            f"{col.name}{HIGH}": np.where(defined, high, np.nan),
            f"{col.name}{LEFT_OUT}": np.where(defined, np.where(left, left_out, 0.0), np.nan),
            f"{col.name}{USED}": self._count(used_rows),
        }

    def _count(self, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=rows.astype(np.float64), minlength=self.n_groups).astype(np.int64)

    def _values(self, name: str) -> np.ndarray:
        return self.rows.values(name)

    def _float_sums(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[rows], weights=values[rows], minlength=self.n_groups)

    def _sum(self, name: str, rows: np.ndarray) -> pd.Series:
        """Exact per-group sums of `name` over `rows`: Int64 for counts, Decimal objects for money."""
        has = np.bincount(self.codes[rows], minlength=self.n_groups) > 0
        if self.spec.column(name).kind is Kind.COUNT:
            # Counts are integers well below 2**53, so float sums are exact.
            sums = self._float_sums(self._values(name), rows)
            return pd.Series(pd.arrays.IntegerArray(np.rint(sums).astype(np.int64), ~has))
        totals: list[Any] = [Decimal(0)] * self.n_groups
        for code, value in zip(self.codes[rows].tolist(), self.frame[name].to_numpy()[rows].tolist(), strict=True):
            totals[code] += value
        return pd.Series([t if h else None for t, h in zip(totals, has, strict=True)], dtype=object)

    def _divide(self, col: Column, numerator: pd.Series, denominator: pd.Series) -> pd.Series:
        if col.kind is Kind.MONEY:
            out = []
            for num, den in zip(numerator.tolist(), denominator.tolist(), strict=True):
                if num is None or den is None or den is pd.NA or den == 0:
                    out.append(None)
                else:
                    value = Decimal(num) / Decimal(int(den))
                    out.append(value.quantize(col.quantum) if col.quantum is not None else value)
            return pd.Series(out, dtype=object)
        num = numerator.to_numpy(dtype="float64", na_value=np.nan)
        den = denominator.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = num / den
        return pd.Series(np.where(np.isnan(den) | (den == 0), np.nan, ratio), dtype="float64")
