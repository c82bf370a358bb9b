import json
import re
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from data.engine import psycopg_connection
from data.filters import DataFilter
from data.queries import _in_grain_order, _unpacked, dataset_columns, facilities, fetch_dataset
from data.sqlfiles import read_sql


def test_each_dataset_has_exactly_the_documented_columns_and_dtypes(seeded_engine):
    frame = fetch_dataset(seeded_engine, "pipeline")
    assert list(frame.columns) == dataset_columns("pipeline") == [
        "facility_id", "month", "applications", "screened", "interviewed", "offered", "hired", "rejected",
        "pending", "conversion_rate", "time_to_fill_days"]
    assert frame["applications"].dtype == "int64" and frame["conversion_rate"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(frame["month"])
    money = fetch_dataset(seeded_engine, "revenue")
    assert all(isinstance(v, Decimal) for v in money["revenue"]) and money["mom_growth"].dtype == "float64"


def test_filters_narrow_by_facility_months_and_channel(seeded_engine):
    filt = DataFilter((2, 3), date(2026, 2, 1), date(2026, 4, 1), "sms")
    frame = fetch_dataset(seeded_engine, "outreach", filt)
    assert set(frame["facility_id"]) == {2, 3}
    assert frame["month"].min() >= pd.Timestamp("2026-02-01") and frame["month"].max() <= pd.Timestamp("2026-04-01")
    assert set(frame["channel"]) == {"sms"}
    everything = fetch_dataset(seeded_engine, "outreach")
    expected = everything[(everything.facility_id.isin([2, 3])) & (everything.channel == "sms")
                          & everything.month.between("2026-02-01", "2026-04-01")]
    assert len(frame) == len(expected) > 0


def test_sql_metacharacters_in_a_channel_are_just_a_value(seeded_engine):
    filt = DataFilter(None, date(2026, 1, 1), date(2026, 6, 1), "sms'; drop table recruiting.outreach; --")
    assert fetch_dataset(seeded_engine, "outreach", filt).empty
    assert not fetch_dataset(seeded_engine, "outreach").empty


def test_facilities_lists_every_facility(seeded_engine):
    frame = facilities(seeded_engine)
    assert sorted(frame["id"]) == list(range(1, 10))
    assert frame["name"].is_unique


def test_the_collector_is_paused_only_while_a_bulk_read_runs(seeded_engine):
    import gc

    from data.engine import gc_paused

    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    fetch_dataset(seeded_engine, "pipeline")
    assert gc.isenabled()


def test_the_drilldown_for_a_few_facilities_reads_only_their_failed_checks(seeded_engine):
    """Migration 011: three facilities' newest failed checks come from the failed-checks index by facility and month,
    not from combining the newest-first index of every failed check with the facility-month one (which read every
    heap page of the selection's months: 1.2 s at 10M checks)."""
    with psycopg_connection(seeded_engine) as conn:
        facilities = [r[0] for r in conn.execute("select id from recruiting.facilities order by id limit 3")]
        plan = conn.execute(
            "explain (format json) " + read_sql("queries/violations.sql"),
            {"facility_ids": facilities, "start": date(2000, 1, 1), "end": date(2099, 12, 1), "limit": 500},
            prepare=False,
        ).fetchone()[0]
    indexes = re.findall(r'"Index Name": "([a-z_]+)"', json.dumps(plan))
    assert "compliance_failed_selection_idx" in indexes
    assert "compliance_failed_recent_idx" not in indexes


def test_a_selection_without_rows_is_an_empty_frame_of_the_documented_dtypes(seeded_engine):
    frame = fetch_dataset(seeded_engine, "revenue", DataFilter((2,), date(2001, 1, 1), date(2001, 2, 1)))
    assert frame.empty and list(frame.columns) == dataset_columns("revenue")
    assert frame["invoices"].dtype == "int64" and pd.api.types.is_datetime64_any_dtype(frame["month"])


def test_column_arrays_are_used_only_in_the_grain_order_the_query_files_ask_for():
    def ids(*values):
        return np.array(values, dtype=np.int64)

    def months(*numbers):
        return np.array([f"2026-{m:02d}-01" for m in numbers], dtype="datetime64[ns]")

    assert _in_grain_order(ids(1, 1, 2, 2), months(1, 2, 1, 1))
    assert not _in_grain_order(ids(1, 1, 2, 1), months(1, 2, 1, 1))
    assert not _in_grain_order(ids(1, 1, 1, 2), months(1, 2, 1, 1))
    assert _in_grain_order(ids(), months())


def test_rows_are_read_one_by_one_when_the_column_arrays_are_out_of_grain_order(seeded_engine, monkeypatch):
    """The fallback of fetch_dataset: the same frame, read row by row."""
    import data.queries as queries

    arrays = {name: fetch_dataset(seeded_engine, name) for name in ("outreach", "revenue")}
    monkeypatch.setattr(queries, "_in_grain_order", lambda facility_ids, months: False)
    for name, expected in arrays.items():
        pd.testing.assert_frame_equal(fetch_dataset(seeded_engine, name), expected)


def test_a_packed_column_that_comes_back_short_is_refused():
    """string_agg drops nulls, and a label holding the separator splits in two: either way the column's length
    differs from the row count, and fetch_dataset reads the rows one by one instead of misaligning them."""
    def packed(count, *, channels="email\x1fsms", sent=(3, 4)):
        return (count, np.array([1, 2], ">i8").tobytes(), np.array([0, 31], ">i4").tobytes(), channels,
                np.array(sent, ">i8").tobytes(), np.array([1, 2], ">i8").tobytes(), np.array([0, 1], ">i8").tobytes(),
                np.array([0.5, np.nan], ">f8").tobytes(), np.array([0.0, 0.25], ">f8").tobytes())

    good = _unpacked("outreach", packed(2))
    assert good["channel"].tolist() == ["email", "sms"] and good["sent"].tolist() == [3, 4]
    assert good["month"].astype("datetime64[D]").astype(str).tolist() == ["1970-01-01", "1970-02-01"]
    assert np.isnan(good["response_rate"][1]) and good["conversion_rate"].tolist() == [0.0, 0.25]
    assert _unpacked("outreach", packed(2, channels="email\x1fs\x1fms")) is None
    assert _unpacked("outreach", packed(2, sent=(3,))) is None
    assert _unpacked("outreach", packed(0, channels=None, sent=())) is None  # every column must be empty too


def test_view_reads_are_never_prepared_statements(empty_engine):
    """psycopg prepares a statement on its sixth run on a connection, and the generic plan PostgreSQL then uses
    cannot see which filters are null: the whole outreach view took 36 ms instead of 26 at 1M applications."""
    for _ in range(8):
        fetch_dataset(empty_engine, "outreach")
    with psycopg_connection(empty_engine) as conn:
        prepared = [r[0] for r in conn.execute("select statement from pg_prepared_statements")]
    assert not [s for s in prepared if "outreach_kpis_materialized" in s]


def test_a_label_holding_the_separator_is_read_row_by_row_and_kept_whole(empty_engine):
    with psycopg_connection(empty_engine) as conn:
        conn.execute("insert into analytics.outreach_kpis_materialized (facility_id, month, channel, sent, responded,"
                     " converted, response_rate, conversion_rate) values (1, '2026-01-01', 'e\x1fmail', 10, 5, 1,"
                     " 0.5, 0.1), (1, '2026-01-01', 'sms', 4, 0, 0, 0, 0), (2, '2026-02-01', 'phone', 3, 1, 0,"
                     " null, null)")
    frame = fetch_dataset(empty_engine, "outreach")
    assert frame["channel"].tolist() == ["e\x1fmail", "sms", "phone"]
    assert frame["sent"].tolist() == [10, 4, 3] and frame["month"].dt.strftime("%Y-%m").tolist()[-1] == "2026-02"
    assert np.isnan(frame["response_rate"].iloc[2])
