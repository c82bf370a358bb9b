from datetime import date

import pytest
from cachelib import SimpleCache

from data.cache import DatasetCache, LocalGeneration
from data.filters import DataFilter
from data.masking import MaskPolicy
from data.service import AnalyticsService, ScopeRequired


@pytest.fixture
def service(seeded_engine):
    return AnalyticsService(seeded_engine, DatasetCache(SimpleCache(), LocalGeneration(), 300), MaskPolicy())


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
    generation = service.cache.generation.current()
    service.refreshed()
    assert service.cache.generation.current() == generation + 1
    misses = service.cache.misses
    service.select("outreach", selection(1))
    assert service.cache.misses == misses, "the first read after the refresh found the masked view cached"
