import pytest
from cachelib import SimpleCache

from data.cache import DatasetCache, LocalGeneration, RedisGeneration, database_namespace


def test_a_bump_retires_every_key_and_hits_and_misses_are_counted():
    cache = DatasetCache(SimpleCache(), LocalGeneration(), 60, namespace="db1")
    calls = []
    compute = lambda: calls.append(1) or "value"  # noqa: E731
    assert cache.get_or_compute(("pipeline", "masked"), compute) == "value"
    assert cache.get_or_compute(("pipeline", "masked"), compute) == "value"
    assert (cache.hits, cache.misses, len(calls)) == (1, 1, 1)
    cache.generation.bump()
    cache.get_or_compute(("pipeline", "masked"), compute)
    assert (cache.misses, len(calls)) == (2, 2)
    cache.get_or_compute(("totals", "selection"), compute, layer="selections")
    stats = cache.stats()
    assert stats["views"] == {"hits": 1, "misses": 2} and stats["selections"] == {"hits": 0, "misses": 1}
    assert (stats["hits"], stats["misses"]) == (1, 3)


def test_databases_never_share_keys_or_generations(redis_url):
    first = database_namespace("postgresql+psycopg://postgres@127.0.0.1:5432/db_one")
    second = database_namespace("postgresql+psycopg://postgres@127.0.0.1:5432/db_two")
    assert first != second
    assert first == database_namespace("postgresql+psycopg://postgres:secret@127.0.0.1:5432/db_one")
    one, two = RedisGeneration(redis_url, first + "t"), RedisGeneration(redis_url, second + "t")
    before = two.current()
    one.bump()
    assert two.current() == before
    backend = SimpleCache()
    a = DatasetCache(backend, LocalGeneration(), 60, namespace=first)
    b = DatasetCache(backend, LocalGeneration(), 60, namespace=second)
    a.get_or_compute(("pipeline",), lambda: "from one")
    assert b.get_or_compute(("pipeline",), lambda: "from two") == "from two"


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:@/postgres?host=/tmp/pgdata"])
def test_socket_urls_have_a_namespace(url):
    assert len(database_namespace(url)) == 12
