from datetime import date
from decimal import Decimal

import pandas as pd

from data.filters import DataFilter
from data.queries import dataset_columns, facilities, fetch_dataset


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
