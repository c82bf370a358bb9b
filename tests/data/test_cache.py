import pytest
from cachelib import SimpleCache

from data.cache import SCHEMA_VERSION, DatasetCache, LocalVersions, RedisVersions, database_namespace


def test_keys_carry_the_schema_version_and_hits_and_misses_are_counted():
    cache = DatasetCache(SimpleCache(), LocalVersions(), 60, namespace="db1")
    assert cache.key("pipeline").startswith(f"recruit:{SCHEMA_VERSION}:db1:")
    calls = []
    compute = lambda: calls.append(1) or "value"  # noqa: E731
    assert cache.get_or_compute(("pipeline", "masked", "v0"), compute) == "value"
    assert cache.get_or_compute(("pipeline", "masked", "v0"), compute) == "value"
    assert (cache.hits, cache.misses, len(calls)) == (1, 1, 1)
    cache.get_or_compute(("pipeline", "masked", "v1"), compute)
    assert (cache.misses, len(calls)) == (2, 2)
    cache.get_or_compute(("totals", "selection"), compute, layer="selections")
    stats = cache.stats()
    assert stats["views"] == {"hits": 1, "misses": 2} and stats["selections"] == {"hits": 0, "misses": 1}
    assert (stats["hits"], stats["misses"]) == (1, 3)


@pytest.mark.redis
def test_databases_never_share_keys_or_generations(redis_url):
    first = database_namespace("postgresql+psycopg://postgres@127.0.0.1:5432/db_one")
    second = database_namespace("postgresql+psycopg://postgres@127.0.0.1:5432/db_two")
    assert first != second
    assert first == database_namespace("postgresql+psycopg://postgres:secret@127.0.0.1:5432/db_one")
    one, two = RedisVersions(redis_url, first + "t"), RedisVersions(redis_url, second + "t")
    before = two.current(["pipeline"])
    one.bump("pipeline", [3])
    assert two.current(["pipeline"]) == before
    backend = SimpleCache()
    a = DatasetCache(backend, LocalVersions(), 60, namespace=first)
    b = DatasetCache(backend, LocalVersions(), 60, namespace=second)
    a.get_or_compute(("pipeline",), lambda: "from one")
    assert b.get_or_compute(("pipeline",), lambda: "from two") == "from two"


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:@/postgres?host=/tmp/pgdata"])
def test_socket_urls_have_a_namespace(url):
    assert len(database_namespace(url)) == 12


def test_local_versions_record_which_facilities_changed_and_fix_each_release_slot():
    check_versions(LocalVersions())


@pytest.mark.redis
def test_redis_versions_record_which_facilities_changed_and_fix_each_release_slot(redis_url):
    import uuid

    check_versions(RedisVersions(redis_url, uuid.uuid4().hex[:12]))


def check_versions(versions) -> None:
    assert versions.current(["pipeline", "revenue"]) == [0, 0]
    assert versions.bump("pipeline", [3, 1]) == 1
    assert versions.bump("pipeline", [2]) == 2
    assert versions.changed("pipeline", 0, 2) == {1, 2, 3}
    assert versions.changed("pipeline", 2, 2) == set()
    versions.bump("pipeline", None)
    assert versions.changed("pipeline", 1, 3) is None  # a full refresh changed everything
    assert versions.released("pipeline", 7) == 3
    versions.bump("pipeline", [1])
    assert versions.released("pipeline", 7) == 3 and versions.released("pipeline", 8) == 4


def test_threads_missing_the_same_key_compute_it_once() -> None:
    import threading
    import time as _time

    from cachelib import SimpleCache

    from data.cache import DatasetCache, LocalVersions

    cache = DatasetCache(SimpleCache(), LocalVersions(), 60)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        _time.sleep(0.2)
        return 42

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute(("k",), compute)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 6
    assert len(calls) == 1
    assert cache.misses == 1 and cache.hits == 5
    assert not cache._flights
