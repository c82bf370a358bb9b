import itertools
import re
from dataclasses import replace

import pytest

from data.engine import get_engine, psycopg_connection
from data.seed import MAX_FACILITIES, SeedConfig, SeedError, facility_rows, seed

TABLES = ("facilities", "candidates", "applications", "compliance_checks", "placements", "invoices", "outreach")


def table_digest(engine) -> dict[str, str]:
    """An md5 over every row of every table, in id order."""
    with psycopg_connection(engine) as conn:
        return {
            t: conn.execute(f"select md5(coalesce(string_agg(x::text, '|' order by x.id), '')) "
                            f"from recruiting.{t} x").fetchone()[0]
            for t in TABLES
        }


def test_same_seed_gives_identical_data_and_another_seed_does_not(make_database, seed_config):
    small = replace(seed_config, applications=1500)
    first, second, third = (get_engine(make_database()) for _ in range(3))
    seed(first, small)
    seed(second, small)
    seed(third, replace(small, seed=8))
    assert table_digest(first) == table_digest(second)
    assert table_digest(first)["applications"] != table_digest(third)["applications"]


def test_seed_refuses_a_database_with_data_unless_reset(make_database, seed_config):
    engine = get_engine(make_database())
    config = replace(seed_config, applications=300)
    seed(engine, config)
    before = table_digest(engine)
    with pytest.raises(SeedError, match="already holds data"):
        seed(engine, replace(config, seed=99))
    assert table_digest(engine) == before
    report = seed(engine, replace(config, seed=99), reset=True)
    assert report.applications == 300
    assert table_digest(engine) != before


def test_seeded_data_has_a_realistic_shape(seeded_engine, seed_config):
    anchor = seed_config.now

    with psycopg_connection(seeded_engine) as conn:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        assert one("select count(*) from recruiting.applications")[0] == seed_config.applications
        for table, column in (("applications", "applied_at"), ("applications", "hired_at"),
                              ("compliance_checks", "checked_at"), ("outreach", "responded_at")):
            latest_event = conn.execute(f"select max({column}) from recruiting.{table}").fetchone()[0]
            assert latest_event <= anchor, f"{table}.{column} lies after the seed's anchor time"
        latest = one("select max(applied_month) from recruiting.applications")[0]
        assert (latest.year, latest.month) == (anchor.year, anchor.month)
        months = one("select count(distinct applied_month) from recruiting.applications")[0]
        assert months == seed_config.months
        # A funnel with drop-off at every stage.
        funnel = one("select count(*), count(screened_at), count(interviewed_at), count(offered_at), count(hired_at)"
                     " from recruiting.applications")
        assert all(a > b > 0 for a, b in itertools.pairwise(funnel))
        # Facilities of very different sizes, including tiny ones with small monthly cells.
        sizes = [r[0] for r in conn.execute(
            "select count(*) from recruiting.applications group by facility_id order by 1").fetchall()]
        assert sizes[-1] > 20 * sizes[0]
        assert one("select count(*) from analytics.pipeline_kpis_materialized where applications < 5")[0] > 0
        severities = {r[0] for r in conn.execute(
            "select distinct severity from recruiting.compliance_checks where not passed").fetchall()}
        assert severities == {"low", "medium", "high", "critical"}
        rates = dict(conn.execute(
            "select channel, avg((responded_at is not null)::int) from recruiting.outreach group by channel"
        ).fetchall())
        assert rates["referral"] > rates["email"] > rates["job_board"]
        assert one("select count(*) from recruiting.outreach where converted_application_id is not null")[0] > 0
        assert one("select count(*) = (select count(*) from recruiting.applications where hired_at is not null)"
                   " from recruiting.placements")[0]
        assert one("select count(*) from recruiting.invoices where invoiced_at > now()")[0] == 0


def test_progress_reports_exactly_the_work_units(make_database, seed_config):
    """The CLI's progress bars are sized by `work_units`: every unit is reported, none twice, so they end at 100%."""
    config = replace(seed_config, applications=700, facilities=6)
    reported: list[tuple[str, int]] = []
    engine = get_engine(make_database())
    seed(engine, config, progress=lambda step, n: reported.append((step, n)))
    engine.dispose()  # the whole suite shares the server's max_connections
    assert sum(n for _step, n in reported) == config.work_units
    assert [step for step, _n in reported][:2] == ["facilities", "candidates"]


@pytest.mark.parametrize("facilities", [1, 9, 40, 1_300, MAX_FACILITIES])
def test_facility_names_are_unique_realistic_and_the_same_for_a_seed(facilities: int):
    rows = facility_rows(SeedConfig(facilities=facilities, seed=3))
    names = [name for _id, name, *_ in rows]
    assert [facility_id for facility_id, *_ in rows] == list(range(1, facilities + 1))
    assert len(set(names)) == facilities
    # No numbering to tell duplicates apart ("Maple Grove Medical Center 29"): names read like real ones.
    assert not [name for name in names if re.search(r"\d", name)]
    assert rows == facility_rows(SeedConfig(facilities=facilities, seed=3))
    assert rows != facility_rows(SeedConfig(facilities=facilities, seed=4))
    kinds = [kind for *_, kind in rows]
    if facilities >= 40:
        # The busiest (lowest) ids are hospitals; the last ids are the tiny rural clinics.
        assert kinds[0] == "hospital" and names[-1].split(",")[0].endswith("Rural Clinic")


def test_more_facilities_than_names_is_refused():
    with pytest.raises(SeedError, match="--facilities must be between 1 and 10,000"):
        SeedConfig(facilities=MAX_FACILITIES + 1).validate()
