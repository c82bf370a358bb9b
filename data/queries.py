"""One query function per KPI dataset (docs/KPIS.md): a typed filter in, a typed DataFrame out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
from psycopg import sql as pgsql
from sqlalchemy import Engine

from data.engine import gc_paused, psycopg_connection
from data.filters import DataFilter
from data.specs import DATASETS, DRILLDOWN, Kind
from data.sqlfiles import read_sql

DATASET_NAMES: tuple[str, ...] = ("pipeline", "compliance", "revenue", "outreach")
Source = Literal["materialized", "live"]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()



def dataset_columns(dataset: str) -> list[str]:
    """The documented columns of a dataset frame, in order (from its spec in data/specs.py)."""
    return list(DATASETS[dataset].columns)


def fetch_dataset(
    engine: Engine, dataset: str, filt: DataFilter | None = None, *, source: Source = "materialized"
) -> pd.DataFrame:
    """Read one dataset; `filt=None` reads the whole view. `source='live'` computes it from the raw tables."""
    if dataset not in DATASET_NAMES:
        raise KeyError(f"unknown dataset {dataset!r}")
    sql = read_sql(f"queries/{dataset}.sql")
    if source == "live":
        sql = sql.replace(f"analytics.{dataset}_kpis_materialized", f"analytics.{dataset}_kpis_live")
    params = {
        "facility_ids": list(filt.facility_ids) if filt and filt.facility_ids is not None else None,
        "start": filt.start if filt else None,
        "end": filt.end if filt else None,
        "channel": filt.channel if filt else None,
    }
    with gc_paused(), psycopg_connection(engine) as conn, conn.cursor(binary=True) as cur:
        # One row holding each column packed whole (numbers as big-endian machine values, numpy reads them without
        # a Python object per cell; text joined; money as an array of Decimals), while PostgreSQL still filters
        # and orders the rows as the query file says: the outreach view's 35,400 rows in 28 ms, against 51 as
        # arrays of values and about three times that as row tuples.
        # Never a prepared statement: the generic plan a connection switches to after five runs cannot see which
        # filters are null, and read the whole outreach view in 36 ms instead of 26.
        cur.execute(_packed_columns(sql, dataset), params, prepare=False)
        data = _unpacked(dataset, cur.fetchone())
        if data is None or not _in_grain_order(data["facility_id"], data["month"]):
            # An aggregate reads its sorted subquery in order unless PostgreSQL splits it into partial aggregates
            # (never for string_agg on PostgreSQL 15); should that change, or a cell be null where the packing
            # has no room for one, the rows are read one by one.
            cur.execute(sql, params, prepare=False)
            data = _typed_columns(dataset, [list(c) for c in zip(*cur.fetchall(), strict=True)] or None)
    return pd.DataFrame(data, columns=dataset_columns(dataset))


# How a column is held: the one place a column's kind decides its packing, its reading back and its array type.
Storage = Literal["day", "int", "float", "money", "text"]
_TEXT_SEPARATOR = "\x1f"  # the ASCII unit separator, which no label contains


@dataclass(frozen=True)
class _Packing:
    """How PostgreSQL packs a column (`sql`, `{}` being its name), how the packed value becomes an array (`unpack`),
    and how the column's Python values become the same array when the rows are read one by one (`from_values`)."""

    sql: str
    unpack: Callable[[Any], np.ndarray]
    from_values: Callable[[Sequence[Any]], np.ndarray]


def _days(days_since_epoch: np.ndarray) -> np.ndarray:
    return days_since_epoch.astype("datetime64[D]").astype("datetime64[ns]")


def _days_from_dates(column: Sequence[date]) -> np.ndarray:
    # Via ordinals: numpy's own date-object conversion took 30 ms for a 36k-row view, this takes 1.5.
    return _days(np.fromiter(map(date.toordinal, column), dtype=np.int64, count=len(column)) - _EPOCH_ORDINAL)


def _objects(column: Sequence[Any]) -> np.ndarray:
    return np.array(column, dtype=object)


# A null where no null can be packed (a count, a grain key) drops out of string_agg, so the column comes back short
# and the rows are read one by one instead.
_PACKINGS: dict[Storage, _Packing] = {
    "day": _Packing("string_agg(int4send({} - date '1970-01-01'), '')",
                    lambda v: _days(np.frombuffer(v or b"", dtype=">i4").astype(np.int64)), _days_from_dates),
    "int": _Packing("string_agg(int8send({}::int8), '')",
                    lambda v: np.frombuffer(v or b"", dtype=">i8").astype(np.int64),
                    lambda column: np.array(column, dtype="int64")),
    "float": _Packing("string_agg(float8send(coalesce({}::float8, 'NaN'::float8)), '')",
                      lambda v: np.frombuffer(v or b"", dtype=">f8").astype(np.float64),
                      lambda column: np.array([np.nan if v is None else v for v in column], dtype="float64")),
    "money": _Packing("array_agg({})",  # exact Decimals
                      lambda v: _objects(v if v is not None else []), _objects),
    "text": _Packing("string_agg({}::text, chr(31))",  # chr(31) is _TEXT_SEPARATOR
                     lambda v: _objects(v.split(_TEXT_SEPARATOR) if v is not None else []), _objects),
}


def _storage(dataset: str, name: str) -> Storage:
    kind = DATASETS[dataset].column(name).kind
    if name == "month":
        return "day"
    if name == "facility_id" or kind is Kind.COUNT:
        return "int"
    if kind in (Kind.DERIVED, Kind.GROWTH):
        return "float"
    return "money" if kind is Kind.MONEY else "text"


def _packed_columns(query: str, dataset: str) -> pgsql.Composed:
    """`select count(*), <packed a>, <packed b>, ... from (<query>) as query_rows` (identifiers quoted; the query
    is a file of sql/queries, its values bound as parameters)."""
    packed = [pgsql.SQL(_PACKINGS[_storage(dataset, c)].sql).format(pgsql.Identifier(c))
              for c in dataset_columns(dataset)]
    return pgsql.SQL("select count(*), {} from ({}) as query_rows").format(pgsql.SQL(", ").join(packed),
                                                                            pgsql.SQL(query))


def _unpacked(dataset: str, row: Sequence[object]) -> dict[str, np.ndarray] | None:
    """The packed columns as typed arrays; None when a column came back short (it had a null)."""
    count, *packed = row
    data: dict[str, np.ndarray] = {}
    for name, value in zip(dataset_columns(dataset), packed, strict=True):
        column = _PACKINGS[_storage(dataset, name)].unpack(value)
        if len(column) != count:
            return None
        data[name] = column
    return data


def _in_grain_order(facility_ids: np.ndarray, months: np.ndarray) -> bool:
    """Facilities ascending, and months ascending within each facility (the order every query file asks for)."""
    step, month_step = np.diff(facility_ids), np.diff(months)
    return bool(np.all((step > 0) | ((step == 0) & (month_step >= np.timedelta64(0)))))


def _typed_columns(dataset: str, values: Sequence[Sequence[object]] | None) -> dict[str, np.ndarray]:
    """Columns of Python values (rows read one by one) as the typed arrays the packed read gives: counts int64,
    rates and growth float64 (NaN where undefined), months datetime64, money exact Decimal objects or None."""
    columns = dataset_columns(dataset)
    return {name: _PACKINGS[_storage(dataset, name)].from_values(column)
            for name, column in zip(columns, values if values is not None else [[]] * len(columns), strict=True)}


def facilities(engine: Engine) -> pd.DataFrame:
    """Every facility (id, name, region, state, kind); callers narrow it to the user's scope."""
    with psycopg_connection(engine) as conn, conn.cursor() as cur:
        cur.execute(read_sql("queries/facilities.sql"))
        rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["id", "name", "region", "state", "kind"])
    frame["id"] = frame["id"].astype("int64")
    return frame




def violations(engine: Engine, filt: DataFilter, *, limit: int = 5000) -> pd.DataFrame:
    """Failed checks with candidate PII, newest first, for an explicit facility list (the view_pii drill-down)."""
    if filt.facility_ids is None:
        raise ValueError("violations need an explicit facility list (the caller's resolved scope)")
    params = {"facility_ids": list(filt.facility_ids), "start": filt.start, "end": filt.end, "limit": limit}
    with psycopg_connection(engine) as conn, conn.cursor() as cur:
        # Never a prepared statement: its generic plan cannot see how many facilities are asked for and sorted
        # every failed check of the selection (480 ms at 1M checks, 5 s at 10M, against 4 ms planned each time).
        cur.execute(read_sql("queries/violations.sql"), params, prepare=False)
        rows = cur.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=[c.name for c in DRILLDOWN])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame
