from datetime import date

import pandas as pd
import pytest
from cachelib import SimpleCache

from data.cache import DatasetCache, LocalVersions
from data.filters import DataFilter
from data.masking import MaskPolicy
from data.service import AnalyticsService, ScopeRequired


@pytest.fixture
def service(seeded_engine):
    return AnalyticsService(seeded_engine, DatasetCache(SimpleCache(), LocalVersions(), 300), MaskPolicy())


def selection(*facilities: int) -> DataFilter:
    return DataFilter(facilities, date(2025, 5, 1), date(2026, 6, 1))


def test_totals_are_cached_per_selection_and_never_shared_across_selections(service):
    first = service.aggregates("pipeline", selection(1, 2), [["month"], []])
    hits = service.cache.hits
    again = service.aggregates("pipeline", selection(1, 2), [["month"], []])
    assert service.cache.hits == hits + 1 and again[1].equals(first[1])
    other = service.aggregates("pipeline", selection(2), [["month"], []])
    assert other[1].at[0, "applications"] != first[1].at[0, "applications"]
    unmasked = service.aggregates("pipeline", selection(1, 2), [[]], unmasked=True)[0]
    assert unmasked.at[0, "excluded_cells"] == 0


def test_kpis_are_cached_but_callers_get_their_own_copy(service):
    row = service.kpis(selection(3))
    row["applications"] = -1
    assert service.kpis(selection(3))["applications"] > 0


def test_a_selection_needs_an_explicit_scope(service):
    with pytest.raises(ScopeRequired):
        service.aggregates("pipeline", DataFilter(None, date(2026, 1, 1), date(2026, 6, 1)), [["month"]])
    with pytest.raises(ScopeRequired):
        service.kpis(DataFilter(None, date(2026, 1, 1), date(2026, 6, 1)))


def test_after_a_refresh_the_views_are_already_masked_for_the_next_reader(service):
    service.masked_view("pipeline")
    before = service.cache.versions.current(["pipeline", "outreach"])
    service.data_changed({"pipeline": None, "outreach": None}, warm=True)
    assert service.cache.versions.current(["pipeline", "outreach"]) == [v + 1 for v in before]
    misses = service.cache.misses
    service.select("outreach", selection(1))
    assert service.cache.misses == misses, "the first read after the refresh found the masked view cached"


def test_a_change_to_one_view_leaves_the_others_cached(service):
    service.kpis(selection(1))
    service.aggregate("compliance", selection(1), ["month"])
    service.data_changed({"pipeline": (1,)})
    misses = service.cache.misses
    service.aggregate("compliance", selection(1), ["month"])
    assert service.cache.misses == misses, "compliance did not change"
    service.kpis(selection(1))
    assert service.cache.misses > misses, "the kpis read pipeline, which changed"


def test_re_masking_only_the_changed_facilities_gives_the_full_masking(service, seeded_engine):
    from data.masking import mask
    from data.queries import fetch_dataset
    from data.specs import DATASETS

    before = service.masked_view("revenue").frame
    service.data_changed({"revenue": (2, 5)})
    patched = service.masked_view("revenue").frame
    full = mask(fetch_dataset(seeded_engine, "revenue"), DATASETS["revenue"], service.policy).frame
    pd.testing.assert_frame_equal(patched, full)
    assert patched is not before


def test_masked_data_is_released_at_most_once_per_interval(seeded_engine, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("data.cache.time.time", lambda: clock[0])
    cache = DatasetCache(SimpleCache(), LocalVersions(), 300, release_seconds=60)
    released = AnalyticsService(seeded_engine, cache, MaskPolicy())
    assert released.versions(["pipeline"]) == (0,)
    released.data_changed({"pipeline": (1,)})
    assert released.versions(["pipeline"]) == (0,), "masked readers keep the slot's release"
    assert released.versions(["pipeline"], unmasked=True) == (1,), "admins' unmasked view follows every change"
    clock[0] += 60
    assert released.versions(["pipeline"]) == (1,), "the next slot releases the change"
