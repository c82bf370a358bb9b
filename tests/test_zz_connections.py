"""The suite is a good neighbour on a shared PostgreSQL (issue 12, item 13): its peak connection count stays under
PEAK_LIMIT. tests/conftest.py samples pg_stat_activity for this session's test databases all along and runs this
module last; run alone it only checks the sampler itself."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text

from data.engine import get_engine

PEAK_LIMIT = 30


def test_the_suites_peak_connection_count_stays_under_the_limit(connection_sampler, make_database):
    url = make_database()
    with get_engine(url).connect() as conn:
        conn.execute(text("select 1"))
        with psycopg.connect(connection_sampler.server_url.replace("postgresql+psycopg://", "postgresql://", 1),
                             autocommit=True) as probe:
            assert connection_sampler.sample(probe, "this test") >= 1  # the sampler sees the test databases
    assert connection_sampler.samples > 0
    assert connection_sampler.peak < PEAK_LIMIT, (
        f"{connection_sampler.peak} connections to the test databases at once (during {connection_sampler.peak_at})")


@pytest.fixture(autouse=True)
def _report(connection_sampler, capsys):
    yield
    with capsys.disabled():
        print(f"\npeak connections to this session's test databases: {connection_sampler.peak} "
              f"({connection_sampler.samples} samples)")
