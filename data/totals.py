"""Totals built only from published (masked) cells: the kpis dataset (docs/KPIS.md) and every total on a page.

Every figure here is a function of published cells alone, so whatever selection a viewer totals ({A, B}, then
{A}), the difference is a function of published cells too and reveals no hidden one. That is why these
functions refuse unmasked frames (no `suppressed` column) and never look at hidden values: a hidden cell is
recognised by its row's `suppressed` list, not by its value.

Rules: a sum adds the published cells (None when there is none); a ratio divides sums taken over the same
rows, those where numerator and denominator are both published; an average is weighted by its count over the
rows where both are published. `excluded_cells` counts the hidden values among the cells a figure reads
(the summed columns, the numerators and denominators of ratios, averages and their weights), each cell once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from data.masking import SUPPRESSED, MaskResult, previous_row_positions, suppressed_matrix
from data.specs import DATASETS, Aggregation, Column, DatasetSpec, Kind

EXCLUDED_CELLS = "excluded_cells"
PARTIAL = "partial"

# kpis field -> (dataset, column it aggregates). Field names are public (the API's kpis dataset).
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


def sum_published(series: pd.Series, hidden: Sequence[bool] | np.ndarray | None = None) -> tuple[Any, int]:
    """Sum of the published cells and the number of hidden cells left out.

    `hidden` says which cells the masker hid (e.g. from `suppressed_matrix`); without it every null is taken
    as hidden, which is right for counts and money but not for figures that can be undefined. The sum keeps
    the cells' type (int, exact Decimal, float) and is None when no cell is published.
    """
    hid = series.isna().to_numpy() if hidden is None else np.asarray(hidden, dtype=bool)
    published = ~hid & series.notna().to_numpy()
    if not published.any():
        return None, int(hid.sum())
    return sum(series[published].tolist()), int(hid.sum())


def aggregate_published(
    masked: Masked, by: Sequence[str], spec: DatasetSpec, *, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Group a masked frame by `by` and rebuild `columns` (default: all aggregable ones) from published cells.

    One row per group, sorted by the group keys (one row in all when `by` is empty, even for an empty frame),
    with the `by` columns, the figures (counts as Int64, money as Decimal or None, rates and averages as
    float) and `excluded_cells` / `partial`. Growth is rebuilt only when the period column is in `by`.
    """
    frame = _masked_frame(masked)
    by = list(by)
    outputs = _output_columns(spec, columns)
    n = len(frame)
    if by:
        codes = frame.groupby(by, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
        _, first = np.unique(codes, return_index=True)
        n_groups = len(first)
        result = frame[by].iloc[first].reset_index(drop=True)
    else:
        codes, n_groups = np.zeros(n, dtype=np.int64), 1
        result = pd.DataFrame(index=pd.RangeIndex(1))
    agg = _Aggregator(frame, spec, codes, n_groups)
    for col in outputs:
        result[col.name] = agg.figure(col, growth=spec.period is not None and spec.period in by)
    result[EXCLUDED_CELLS] = agg.excluded(_read_columns(spec, outputs))
    result[PARTIAL] = result[EXCLUDED_CELLS] > 0
    return result


def kpi_totals(frames: Mapping[str, Masked]) -> dict[str, Any]:
    """The kpis row (docs/KPIS.md) from masked frames keyed by dataset; a dataset not given yields None fields.

    Values are plain Python (int, float, Decimal, None); `partial` and `excluded_cells` cover every field.
    """
    unknown = set(frames) - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown datasets {sorted(unknown)}")
    row: dict[str, Any] = dict.fromkeys(KPI_FIELDS)
    excluded = 0
    for name, masked in frames.items():
        fields = {field: column for field, (dataset, column) in KPI_FIELDS.items() if dataset == name}
        totals = aggregate_published(masked, [], DATASETS[name], columns=list(fields.values()))
        for field, column in fields.items():
            row[field] = _plain(totals.at[0, column])
        excluded += int(totals.at[0, EXCLUDED_CELLS])
    row[PARTIAL] = excluded > 0
    row[EXCLUDED_CELLS] = excluded
    return row


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
        if col.aggregation is Aggregation.SUM:
            read.add(col.name)
        elif col.aggregation is Aggregation.RATIO:
            read.update((col.numerator or "", col.denominator or ""))
        elif col.aggregation is Aggregation.MEAN:
            read.update((col.name, col.denominator or ""))
        elif col.aggregation is Aggregation.GROWTH:
            read.update(col.inputs)
    return [c for c in spec.columns if c in read]


def _plain(value: Any) -> Any:
    """A pandas/numpy scalar as plain Python, NA/NaN as None."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class _Aggregator:
    """Per-group sums of published cells for one masked frame and one grouping."""

    def __init__(self, frame: pd.DataFrame, spec: DatasetSpec, codes: np.ndarray, n_groups: int) -> None:
        self.frame, self.spec, self.codes, self.n_groups = frame, spec, codes, n_groups
        self.hidden = suppressed_matrix(frame, spec.value_columns)
        for name in spec.count_columns:
            # A null count is never undefined: whatever the list says, it was not published.
            self.hidden[name] = self.hidden[name] | frame[name].isna().to_numpy()
        self._prev: np.ndarray | None = None

    def published(self, name: str) -> np.ndarray:
        return ~self.hidden[name] & self.frame[name].notna().to_numpy()

    def excluded(self, names: list[str]) -> np.ndarray:
        out = np.zeros(self.n_groups, dtype=np.int64)
        for name in names:
            out += np.bincount(self.codes, weights=self.hidden[name], minlength=self.n_groups).astype(np.int64)
        return out

    def figure(self, col: Column, *, growth: bool) -> pd.Series:
        agg = col.aggregation
        if agg is Aggregation.SUM:
            return self._sum(col.name, self.published(col.name))
        if agg is Aggregation.RATIO:
            assert col.numerator is not None and col.denominator is not None
            rows = self.published(col.numerator) & self.published(col.denominator)
            return self._divide(col, self._sum(col.numerator, rows), self._sum(col.denominator, rows))
        if agg is Aggregation.MEAN:
            assert col.denominator is not None
            rows = self.published(col.name) & self.published(col.denominator)
            weights = self._values(col.denominator)
            weighted = self._float_sums(self._values(col.name) * weights, rows)
            total = self._float_sums(weights, rows)
            return self._float_series(weighted, total, rows)
        if agg is Aggregation.GROWTH:
            return self._growth(col) if growth else pd.Series(np.nan, index=range(self.n_groups))
        raise ValueError(f"{col.name} cannot be aggregated")

    def _values(self, name: str) -> np.ndarray:
        return pd.to_numeric(self.frame[name]).to_numpy(dtype="float64", na_value=np.nan)

    def _float_sums(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes[rows], weights=values[rows], minlength=self.n_groups)

    def _float_series(self, numerator: np.ndarray, denominator: np.ndarray, rows: np.ndarray) -> pd.Series:
        has = np.bincount(self.codes[rows], minlength=self.n_groups) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = numerator / denominator
        return pd.Series(np.where(has & (denominator != 0), ratio, np.nan), dtype="float64")

    def _sum(self, name: str, rows: np.ndarray) -> pd.Series:
        """Exact per-group sums of `name` over `rows`: Int64 for counts, Decimal objects for money."""
        has = np.bincount(self.codes[rows], minlength=self.n_groups) > 0
        if self.spec.column(name).kind is Kind.COUNT:
            # Counts are integers well below 2**53, so float sums are exact.
            sums = np.bincount(self.codes[rows], weights=self._values(name)[rows], minlength=self.n_groups)
            return pd.Series(pd.array(np.rint(sums).astype(np.int64), dtype="Int64")).mask(~has)
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

    def _growth(self, col: Column) -> pd.Series:
        """(sum this - sum previous) / sum previous over rows where both periods are published."""
        (source,) = col.inputs
        if self._prev is None:
            self._prev = previous_row_positions(self.frame, self.spec)
        prev = self._prev
        published = self.published(source)
        has_prev = prev >= 0
        rows = published & has_prev
        rows[rows] = published[prev[rows]]
        values = self.frame[source].to_numpy(dtype=object)
        current: list[Any] = [0] * self.n_groups
        previous: list[Any] = [0] * self.n_groups
        for i in np.flatnonzero(rows).tolist():
            code = self.codes[i]
            current[code] += values[i]
            previous[code] += values[prev[i]]
        out = [float((c - p) / p) if p != 0 else np.nan for c, p in zip(current, previous, strict=True)]
        return pd.Series(out, dtype="float64")
