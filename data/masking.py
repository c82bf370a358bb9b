"""The masker: small-cell suppression (docs/PRIVACY.md), a pure function of the data.

`mask(df, spec, policy)` hides what the rules say and lists, per row, what it hid. It never mutates its input,
is idempotent (hidden cells arrive as NA, stay hidden and are listed again), does not depend on row order, and
gives each row the same result whatever other rows are passed, except for one cross-row rule: a GROWTH column
looks at the previous period's row of the same series among the rows passed. The data layer therefore masks
whole views, never a filtered subset (masking happens once per view per data generation).

Everything dataset-specific comes from the `DatasetSpec` (data/specs.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from data.framepickle import frame_state, restore_frame
from data.specs import Column, DatasetSpec, Group, Kind

SUPPRESSED = "suppressed"
# How close (in counts) the sum of a group's hidden parts may come to the least sum they could have before the
# group's whole is hidden too (see `_complementary`).
CORNER_MARGIN = 1


# Below this threshold the hiring funnel leaves some hidden counts a single possible value (docs/PRIVACY.md), so
# the guarantee the privacy audit proves starts here.
MIN_THRESHOLD = 5


@dataclass(frozen=True)
class MaskPolicy:
    """`enabled` is HIPAA_MODE, `threshold` is HIPAA_MIN_THRESHOLD (k): counts 1..k-1 are never shown."""

    enabled: bool = True
    threshold: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold < MIN_THRESHOLD:
            raise ValueError(f"threshold must be an integer of at least {MIN_THRESHOLD}, got {self.threshold!r}")


@dataclass(frozen=True, eq=False)
class MaskResult:
    """The masked frame (input columns plus `suppressed`) and the number of values hidden."""

    frame: pd.DataFrame
    suppressed_cells: int

    def __reduce__(self) -> tuple[Any, ...]:
        """Cached (pickled) with its money columns as text: data/framepickle.py."""
        return _unpickle_mask_result, (*frame_state(self.frame), self.suppressed_cells)


def _unpickle_mask_result(rest: pd.DataFrame, texts: dict[str, str], order: list[str], suppressed_cells: int
                          ) -> MaskResult:
    return MaskResult(restore_frame(rest, texts, order), suppressed_cells)


def mask(df: pd.DataFrame, spec: DatasetSpec, policy: MaskPolicy) -> MaskResult:
    """Apply the primary, derived and complementary rules to every row of `df`; returns a new frame."""
    _check_columns(df, spec)
    counts = {c: _count_values(df[c]) for c in spec.count_columns}
    hidden = {c: np.zeros(len(df), dtype=bool) for c in spec.value_columns}
    if policy.enabled:
        k = policy.threshold
        for name, values in counts.items():
            # An NA count is one a previous masking hid: it stays hidden (idempotence).
            hidden[name] = np.isnan(values) | ((values >= 1) & (values < k))
        _complementary(spec.groups, counts, hidden, k)
        # Derived figures only once complementary suppression is final, in spec order so that money built on
        # money (avg_invoice on revenue) sees its input's final state.
        prev_pos: np.ndarray | None = None
        for col in spec.fields:
            if col.kind in (Kind.DERIVED, Kind.MONEY):
                hidden[col.name] = _derived_hidden(col, counts, hidden, k)
            elif col.kind is Kind.GROWTH:
                if prev_pos is None:
                    prev_pos = previous_row_positions(df, spec)
                hidden[col.name] = _growth_hidden(col, hidden, prev_pos)
    frame = _masked_frame(df, spec, hidden)
    return MaskResult(frame=frame, suppressed_cells=int(sum(int(h.sum()) for h in hidden.values())))


def suppressed_matrix(frame: pd.DataFrame, columns: Iterable[str]) -> dict[str, np.ndarray]:
    """Per column, a boolean array: True where the row's `suppressed` list names that column.

    Masked frames share one list object per hiding pattern (`_suppressed_lists`), so each distinct object is read
    once and the answer spread to its rows; a frame with a list per row works too, just without the saving.
    """
    if SUPPRESSED not in frame.columns:
        raise ValueError(f"not a masked frame: no {SUPPRESSED!r} column (totals need masked data)")
    names = list(columns)
    values = frame[SUPPRESSED].to_numpy(dtype=object)
    if len(values) == 0:
        return {c: np.zeros(0, dtype=bool) for c in names}
    identities = np.fromiter(map(id, values), dtype=np.int64, count=len(values))
    _, first, inverse = np.unique(identities, return_index=True, return_inverse=True)
    patterns = [v if isinstance(v, list | tuple | np.ndarray) else () for v in values[first]]
    return {c: np.array([c in p for p in patterns], dtype=bool)[inverse.reshape(-1)] for c in names}


def previous_row_positions(df: pd.DataFrame, spec: DatasetSpec) -> np.ndarray:
    """Per row, the position of the row one calendar month earlier in the same series, or -1 if absent."""
    if spec.period is None or len(df) == 0:
        return np.full(len(df), -1, dtype=np.int64)
    months = df[spec.period].to_numpy()
    codes = [pd.factorize(df[k].to_numpy())[0] for k in spec.series_keys]
    if months.dtype.kind != "M" or np.isnat(months).any() or any((c < 0).any() for c in codes):
        return _previous_row_positions_by_merge(df, spec)
    # One number per row: its series, then its month counted from one after the earliest. The month before the
    # earliest is slot 0 of its series, which no row holds, so a lookup never reaches into another series.
    month = months.astype("datetime64[M]").astype(np.int64)
    series = np.zeros(len(df), dtype=np.int64)
    for c in codes:
        series = series * (int(c.max()) + 1) + c
    key = series * (int(month.max() - month.min()) + 2) + (month - month.min() + 1)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    if (np.diff(ordered) == 0).any():
        raise ValueError(f"{spec.name}: more than one row per grain cell {spec.grain}")
    at = np.minimum(np.searchsorted(ordered, key - 1), len(key) - 1)
    return np.where(ordered[at] == key - 1, order[at], -1).astype(np.int64)


def _previous_row_positions_by_merge(df: pd.DataFrame, spec: DatasetSpec) -> np.ndarray:
    """previous_row_positions() for what the numbering above does not take: missing months or series keys."""
    keys = list(spec.series_keys)
    period = pd.to_datetime(df[spec.period])
    month_index = (period.dt.year * 12 + period.dt.month).to_numpy(dtype="float64", na_value=np.nan)
    table = pd.DataFrame({f"k{i}": df[k].to_numpy() for i, k in enumerate(keys)})
    on = [*table.columns, "_m"]
    table["_m"] = month_index
    if table.duplicated(on).any():
        raise ValueError(f"{spec.name}: more than one row per grain cell {spec.grain}")
    lookup = table.assign(_pos=np.arange(len(table), dtype=np.int64)).dropna(subset=["_m"])
    target = table.assign(_m=month_index - 1)
    merged = target.merge(lookup, on=on, how="left", sort=False)
    return merged["_pos"].fillna(-1).to_numpy(dtype=np.int64)


def _check_columns(df: pd.DataFrame, spec: DatasetSpec) -> None:
    missing = [c for c in (*spec.grain, *spec.value_columns) if c not in df.columns]
    if missing:
        raise ValueError(f"{spec.name}: frame lacks columns {missing}")


def _count_values(series: pd.Series) -> np.ndarray:
    """Counts as float64 with NaN for NA: exact up to 2**53 and one array type for every comparison."""
    return pd.to_numeric(series).to_numpy(dtype="float64", na_value=np.nan)


def _complementary(
    groups: tuple[Group, ...], values: dict[str, np.ndarray], hidden: dict[str, np.ndarray], k: int
) -> None:
    """The complementary rules, in place.

    1. A group with any hidden member has every non-zero part hidden. Which part was small then no longer shows
       in the pattern: it is the same whichever non-zero member was below k.
    2. A group with exactly one hidden member (its only non-zero part, the whole published) hides its whole: the
       part would equal the whole.
    3. A published whole whose hidden parts add up to at most CORNER_MARGIN more than the least they can add up to
       (every hidden count is at least 1; a hidden whole of another group at least its published parts plus one
       per hidden part) hides the whole: near that least sum every hidden part is pinned to its minimum.
    Rules 1 and 2 are applied to every group until nothing changes; only then is rule 3 read, on that settled
    pattern, for every group at once (so it never reads a value that rule 1 is about to hide); then again.
    Every rule reads which cells are hidden, which are zero and sums an attacker can work out, and rule 3 fires
    on a band of sums rather than one exact sum, so knowing the rules narrows no hidden cell to a single value;
    `data.privacy_audit` checks this by exact search on every published row. Hidden cells are only ever added,
    so the loops end.
    """
    wholes = {g.whole: g for g in groups}
    while True:
        settled = False
        while not settled:
            settled = True
            for group in groups:
                any_hidden = np.logical_or.reduce([hidden[m] for m in group.members])
                for part in group.parts:
                    settled &= not _hide(hidden[part], any_hidden & (values[part] > 0))
                count = sum(hidden[m].astype(np.int64) for m in group.members)
                settled &= not _hide(hidden[group.whole], count == 1)
        cornered = {}
        for group in groups:
            shown = ~hidden[group.whole] & np.logical_or.reduce([hidden[p] for p in group.parts])
            hidden_sum = values[group.whole] - sum(np.where(hidden[p], 0.0, values[p]) for p in group.parts)
            least = sum(np.where(hidden[p], _least(p, values, hidden, wholes), 0.0) for p in group.parts)
            cornered[group.whole] = shown & (hidden_sum <= least + CORNER_MARGIN)
        grew = False
        for whole, rows in cornered.items():
            grew |= _hide(hidden[whole], rows)
        if not grew:
            return


def _hide(hidden: np.ndarray, rows: np.ndarray) -> bool:
    """Hide `rows` in place; whether anything new was hidden."""
    new = rows & ~hidden
    if not new.any():
        return False
    hidden |= new
    return True


def _least(name: str, values: dict[str, np.ndarray], hidden: dict[str, np.ndarray], wholes: dict[str, Group]
           ) -> np.ndarray:
    """The least value an attacker must allow for a hidden count: 1, or for the whole of a group the sum of its
    published parts plus the least of each hidden part."""
    group = wholes.get(name)
    if group is None:
        return np.ones(len(values[name]))
    inner = sum(np.where(hidden[p], _least(p, values, hidden, wholes), values[p]) for p in group.parts)
    return np.maximum(inner, 1.0)


def _derived_hidden(col: Column, counts: dict[str, np.ndarray], hidden: dict[str, np.ndarray], k: int) -> np.ndarray:
    """The derived rule for a rate, an average or money."""
    out = np.zeros_like(hidden[col.name])
    for name in col.inputs:
        out |= hidden[name]
    if col.denominator is not None:
        denominator = counts[col.denominator]
        published = ~hidden[col.denominator]
        # Redundant with rule 1 while denominators are counts, kept so the code reads as the rule is stated.
        # A published zero denominator leaves the figure undefined (no hires, no time to fill): not hidden.
        out |= published & (denominator > 0) & (denominator < k)
    return out


def _growth_hidden(col: Column, hidden: dict[str, np.ndarray], prev_pos: np.ndarray) -> np.ndarray:
    """Hidden when the input is hidden in this row or in the previous period's row.

    Growth plus this month's value gives last month's, so a hidden previous value must hide the growth too.
    """
    this = np.zeros(len(prev_pos), dtype=bool)
    for name in col.inputs:
        this |= hidden[name]
    has_prev = prev_pos >= 0
    previous = np.zeros_like(this)
    previous[has_prev] = this[prev_pos[has_prev]]
    return this | previous


def _masked_frame(df: pd.DataFrame, spec: DatasetSpec, hidden: dict[str, np.ndarray]) -> pd.DataFrame:
    """The input's columns with hidden cells blanked, plus `suppressed`; built in one go, column by column."""
    columns: dict[str, Any] = {}
    for name in df.columns:
        source = df[name]
        h = hidden.get(name)
        col = spec.column(name) if h is not None else None
        if col is None:
            columns[name] = source
        elif col.kind is Kind.COUNT:
            columns[name] = _masked_counts(source, h)
        elif col.kind is Kind.MONEY:
            values = source.to_numpy(dtype=object, copy=True)
            values[pd.isna(values) | h] = None
            columns[name] = values
        else:
            values = pd.to_numeric(source).to_numpy(dtype="float64", na_value=np.nan, copy=True)
            values[h] = np.nan
            columns[name] = values
    columns[SUPPRESSED] = _suppressed_lists(spec.value_columns, hidden, len(df), df.index)
    return pd.DataFrame(columns, index=df.index)


def _masked_counts(source: pd.Series, hidden: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Counts as nullable integers, NA where hidden. Plain int64 counts (what the database gives) go straight into
    the array; anything else (counts a previous masking left NA, floats) the way pandas converts them."""
    if source.dtype == np.int64:
        return pd.arrays.IntegerArray(source.to_numpy(copy=True), hidden.copy())
    return pd.to_numeric(source).astype("Int64").mask(hidden).array


def _suppressed_lists(columns: tuple[str, ...], hidden: dict[str, np.ndarray], n: int, index: pd.Index) -> pd.Series:
    """Each row's hidden field names in spec order.

    Rows with the same hiding pattern share one list object (a few dozen patterns for tens of thousands of rows):
    building a list per row was most of the masking time. The lists are read-only like the rest of the frame.
    """
    code = np.zeros(n, dtype=np.int64)
    for bit, name in enumerate(columns):
        code |= hidden[name].astype(np.int64) << bit
    patterns, inverse = np.unique(code, return_inverse=True)
    shared = np.empty(len(patterns), dtype=object)
    shared[:] = [[c for bit, c in enumerate(columns) if int(p) >> bit & 1] for p in patterns]
    return pd.Series(shared[inverse.reshape(-1)], index=index, dtype=object)
