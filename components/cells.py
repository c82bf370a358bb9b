"""Reading masked frames: which nulls were suppressed, values as floats, totals over published cells only.

A value is *suppressed* when it is null and its field is listed in the row's `suppressed` list. A frame
without a `suppressed` column (e.g. one a page aggregated itself) counts a null in a row with `partial`
true as suppressed. Any other null is merely undefined (no hires, so no time to fill).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SUPPRESSED = "suppressed"
PARTIAL = "partial"
EXCLUDED = "excluded_cells"


@dataclass(frozen=True)
class Ratio:
    """A rate recomputed as sum(numerator) / sum(denominator) over rows where both are published."""

    numerator: str
    denominator: str


@dataclass(frozen=True)
class Mean:
    """An average recomputed weighted by a published count (e.g. time to fill weighted by hires)."""

    value: str
    weight: str


Derived = Ratio | Mean


def _listed(entry: object, field: str) -> bool:
    if isinstance(entry, str):
        return entry == field
    if isinstance(entry, Iterable):
        return field in list(entry)
    return False


def hidden(df: pd.DataFrame, field: str) -> pd.Series:
    """Boolean Series: True where `field` is null because the masker hid it."""
    if field not in df.columns:
        return pd.Series(False, index=df.index, dtype=bool)
    isna = df[field].isna().to_numpy(dtype=bool)
    if SUPPRESSED in df.columns:
        listed = np.array([_listed(entry, field) for entry in df[SUPPRESSED]], dtype=bool)
    elif PARTIAL in df.columns:
        listed = df[PARTIAL].fillna(False).astype(bool).to_numpy()
    else:
        listed = np.zeros(len(df), dtype=bool)
    return pd.Series(isna & listed, index=df.index, dtype=bool)


def as_float(df: pd.DataFrame, field: str) -> pd.Series:
    """`field` as float64 with NaN for nulls (Int64 counts, Decimal money, floats); all-NaN if absent."""
    if field not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    values = pd.to_numeric(df[field], errors="coerce")
    return pd.Series(values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan), index=df.index)


def partial_flags(df: pd.DataFrame) -> pd.Series:
    if PARTIAL not in df.columns:
        return pd.Series(False, index=df.index, dtype=bool)
    return df[PARTIAL].fillna(False).astype(bool)


def excluded_counts(df: pd.DataFrame) -> pd.Series:
    if EXCLUDED not in df.columns:
        return pd.Series(0, index=df.index, dtype="int64")
    return pd.to_numeric(df[EXCLUDED], errors="coerce").fillna(0).astype("int64")


def row_excluded(df: pd.DataFrame, fields: Sequence[str]) -> pd.Series:
    """Hidden cells each row stands for: its own `excluded_cells` if it is a total, else its hidden fields."""
    if EXCLUDED in df.columns:
        return excluded_counts(df)
    counts = pd.Series(0, index=df.index, dtype="int64")
    for field in fields:
        counts += hidden(df, field).astype("int64")
    return counts


def totals(
    df: pd.DataFrame,
    by: Sequence[str],
    *,
    sums: Sequence[str] = (),
    derived: Mapping[str, Derived] | None = None,
) -> pd.DataFrame:
    """One row per `by` group: published sums, recomputed rates, `suppressed`, `partial`, `excluded_cells`.

    All value columns come back as float64 (NaN when null). A frame already unique on `by` is passed through
    (its own rates and notes are kept); otherwise groups are summed over published cells only.
    """
    derived = dict(derived or {})
    by = list(by)
    if df.empty:
        return pd.DataFrame(columns=[*by, *sums, *derived, SUPPRESSED, PARTIAL, EXCLUDED])
    if not df.duplicated(subset=by).any():
        return _passthrough(df, by, sums, derived)
    return _aggregate(df, by, sums, derived)


def _passthrough(df: pd.DataFrame, by: list[str], sums: Sequence[str], derived: dict[str, Derived]) -> pd.DataFrame:
    out = df[by].copy()
    for field in sums:
        out[field] = as_float(df, field)
    for name, spec in derived.items():
        out[name] = as_float(df, name) if name in df.columns else _rowwise(df, spec)
    fields = [*sums, *derived]
    flags = {field: hidden(df, field) for field in fields}
    for name, spec in derived.items():
        if name not in df.columns:
            inputs_hidden = hidden(df, _inputs(spec)[0]) | hidden(df, _inputs(spec)[1])
            flags[name] = out[name].isna() & inputs_hidden
    hidden_rows = {f: flags[f].to_numpy(dtype=bool) for f in fields}  # positional reads, not .iloc per cell
    out[SUPPRESSED] = [[f for f in fields if hidden_rows[f][i]] for i in range(len(df))]
    out[PARTIAL] = partial_flags(df).to_numpy()
    out[EXCLUDED] = excluded_counts(df).to_numpy()
    return out.sort_values(by, kind="stable").reset_index(drop=True)


def _rowwise(df: pd.DataFrame, spec: Derived) -> pd.Series:
    if isinstance(spec, Ratio):
        num, den = as_float(df, spec.numerator), as_float(df, spec.denominator)
        return (num / den.where(den > 0)).astype("float64")
    return as_float(df, spec.value)


def _aggregate(df: pd.DataFrame, by: list[str], sums: Sequence[str], derived: dict[str, Derived]) -> pd.DataFrame:
    inputs = list(dict.fromkeys([*sums, *(f for spec in derived.values() for f in _inputs(spec))]))
    work = df[by].copy()
    for field in inputs:
        work[field] = as_float(df, field)
        work[f"__hidden_{field}"] = hidden(df, field).astype("int64")
    for name, spec in derived.items():
        work[f"__hidden_{name}"] = hidden(df, name).astype("int64")
        for part, values in zip(("num", "den"), _weighted_parts(df, spec), strict=True):
            work[f"__{part}_{name}"] = values
    work["__excluded"] = row_excluded(df, inputs)
    work["__partial"] = partial_flags(df).astype("int64")

    grouped = work.groupby(by, sort=True, dropna=False)
    out = grouped.size().reset_index()[by]
    suppressed: list[list[str]] = [[] for _ in range(len(out))]
    for field in sums:
        total = grouped[field].sum(min_count=1).to_numpy()
        gone = grouped[f"__hidden_{field}"].sum().to_numpy()
        out[field] = total
        for i in np.flatnonzero(np.isnan(total) & (gone > 0)):
            suppressed[i].append(field)
    for name, spec in derived.items():
        num = grouped[f"__num_{name}"].sum(min_count=1).to_numpy()
        den = grouped[f"__den_{name}"].sum(min_count=1).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        out[name] = value
        gone = sum(grouped[f"__hidden_{f}"].sum().to_numpy() for f in (*_inputs(spec), name))
        for i in np.flatnonzero(np.isnan(value) & (gone > 0)):
            suppressed[i].append(name)
    excluded = grouped["__excluded"].sum().to_numpy()
    out[SUPPRESSED] = suppressed
    out[PARTIAL] = (excluded > 0) | (grouped["__partial"].sum().to_numpy() > 0)
    out[EXCLUDED] = excluded.astype("int64")
    return out


def _inputs(spec: Derived) -> tuple[str, str]:
    return (spec.numerator, spec.denominator) if isinstance(spec, Ratio) else (spec.value, spec.weight)


def _weighted_parts(df: pd.DataFrame, spec: Derived) -> tuple[pd.Series, pd.Series]:
    """Per-row numerator and denominator contributions, NaN where either side is not published."""
    if isinstance(spec, Ratio):
        num, den = as_float(df, spec.numerator), as_float(df, spec.denominator)
        ok = num.notna() & den.notna()
        return num.where(ok), den.where(ok)
    value, weight = as_float(df, spec.value), as_float(df, spec.weight)
    ok = value.notna() & weight.notna() & (weight > 0)
    return (value * weight).where(ok), weight.where(ok)
