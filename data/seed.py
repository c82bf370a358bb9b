"""Demo-data generator: set-based SQL in batches, deterministic for a given seed and anchor time.

Every random draw is a hash of (row number, seed), so the same seed gives the same rows whatever plan PostgreSQL
picks; months end at the anchor's month, so data generated on the same day with the same seed is identical.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.filters import add_months, current_month
from data.sqlfiles import read_sql

BATCH_ROWS = 500_000
_TABLES = ("outreach", "invoices", "placements", "compliance_checks", "applications", "candidates", "facilities")
# Demo facility names: a place (a town or a patron) and what the facility is. Beyond 1,200 regular names (places x
# kinds) a name gets a campus, as large systems name their sites; every name stays unique and readable.
_PLACES = (
    "Riverside", "Lakeview", "Northgate", "Cedar Valley", "Harbor", "Summit", "Oak Ridge", "Bayfront", "Pine Hollow",
    "Eastside", "Westbrook", "Silver Lake", "Fairview", "Maple Grove", "Highland", "Brookside", "Granite Peak",
    "Sunnyvale", "Willow Creek", "Kingsport", "Ashford", "Clearwater", "Meadowbrook", "Stonebridge", "Elmwood",
    "Forest Hills", "Glenwood", "Hillcrest", "Lakewood", "Millbrook", "Newport", "Oakdale", "Parkview", "Prairie View",
    "Redwood", "Rockport", "Sandy Springs", "Shady Grove", "Springfield", "Sycamore", "Timberline", "Valley View",
    "Woodland", "Blue Ridge", "Canyon Creek", "Cherry Hill", "Coral Bay", "Crystal Lake", "Deer Park", "Eagle Rock",
    "Falcon Ridge", "Foxborough", "Golden Valley", "Green Meadows", "Hampton", "Heritage Park", "Ironwood",
    "Juniper Hills", "Laurel Heights", "Lincoln Park", "Magnolia", "Mapleton", "Mill Creek", "Mountain View",
    "North Shore", "Orchard Park", "Pleasant Valley", "Quail Hollow", "Rosewood", "Seaside", "South Bay", "Spring Lake",
    "Sterling", "Three Rivers", "Twin Oaks", "Westfield", "Whispering Pines", "Wildwood", "Windsor", "Yorktown",
    "St. Anne's", "St. Mary's", "St. Luke's", "St. Joseph's", "St. Francis", "St. Vincent's", "St. Elizabeth's",
    "St. Catherine's", "St. Michael's", "St. Jude", "Mercy", "Providence", "Good Samaritan", "Sacred Heart",
    "Holy Cross", "Trinity", "Grace", "Bethany", "Covenant", "Hope",
)
# (name suffix, kind), largest first: low facility ids carry the most activity, so they get the hospitals.
_KINDS = (
    ("General Hospital", "hospital"), ("Medical Center", "hospital"), ("Regional Medical Center", "hospital"),
    ("Community Hospital", "hospital"), ("Rehabilitation Hospital", "rehab"), ("Rehabilitation Center", "rehab"),
    ("Skilled Nursing Facility", "skilled_nursing"), ("Nursing and Rehabilitation Center", "skilled_nursing"),
    ("Behavioral Health Center", "clinic"), ("Community Clinic", "clinic"), ("Family Health Clinic", "clinic"),
    ("Urgent Care", "clinic"),
)
_TINY_KINDS = (("Rural Clinic", "clinic"),)
_CAMPUSES = ("North", "South", "East", "West", "Central", "Downtown", "Midtown", "Uptown")
_STATES = (("Northeast", ("NY", "MA", "PA", "NJ")), ("South", ("TX", "FL", "GA", "NC")),
           ("Midwest", ("IL", "OH", "MI", "MN")), ("West", ("CA", "WA", "OR", "AZ")))
MAX_FACILITIES = 10_000

Progress = Callable[[str, int], None]


class SeedError(RuntimeError):
    """The database cannot be seeded as asked (e.g. it already holds data and --reset was not given)."""


@dataclass(frozen=True)
class SeedConfig:
    applications: int = 200_000
    facilities: int = 40
    months: int = 24
    seed: int = 42
    now: datetime | None = None

    @property
    def candidates(self) -> int:
        return max(1, math.ceil(self.applications * 0.8))

    @property
    def n_tiny(self) -> int:
        """How many of the facilities are tiny rural clinics (the highest ids), so small cells occur at any size."""
        return 0 if self.facilities < 4 else max(1, round(self.facilities * 0.08))

    @property
    def work_units(self) -> int:
        """What `seed` reports through `progress` in all: one unit per facility, candidate, application, check and
        outreach row (placements and invoices follow from the hires and report 0)."""
        return self.facilities + self.candidates + 5 * self.applications

    def validate(self) -> None:
        if self.applications < 1:
            raise SeedError("--applications must be at least 1")
        if not 1 <= self.facilities <= MAX_FACILITIES:
            raise SeedError(f"--facilities must be between 1 and {MAX_FACILITIES:,}")
        if not 1 <= self.months <= 240:
            raise SeedError("--months must be between 1 and 240")


@dataclass(frozen=True)
class SeedReport:
    facilities: int
    candidates: int
    applications: int
    compliance_checks: int
    placements: int
    invoices: int
    outreach: int


def database_has_data(engine: Engine) -> bool:
    with psycopg_connection(engine) as conn:
        return any(
            conn.execute(f"select exists (select 1 from recruiting.{table})").fetchone()[0]
            for table in _TABLES
        )


def ensure_seedable(engine: Engine, *, reset: bool) -> None:
    """Raise SeedError when `seed` would refuse this database (it holds data and `reset` is false)."""
    if not reset and database_has_data(engine):
        raise SeedError("the database already holds data; pass --reset to replace it")


def seed(engine: Engine, config: SeedConfig, *, reset: bool = False, progress: Progress | None = None) -> SeedReport:
    """Fill the recruiting tables; refuses to write into a non-empty database unless `reset`."""
    config.validate()
    report_progress = progress or (lambda _step, _n: None)
    ensure_seedable(engine, reset=reset)
    now = (config.now or datetime.now(UTC)).replace(microsecond=0)
    window_start_month = add_months(current_month(now), -(config.months - 1))
    window_start = datetime(window_start_month.year, window_start_month.month, 1, tzinfo=UTC)
    n = config.applications
    n_tiny = config.n_tiny
    n_regular = config.facilities - n_tiny
    params = {
        "now": now,
        "window_start": window_start,
        "months": config.months,
        "candidates": config.candidates,
        "applications": n,
        "n_regular": n_regular,
        "n_tiny": n_tiny,
        # About four events a month in each tiny facility, whatever the total size.
        "tiny_fraction": min(0.05, 4.0 * config.months * n_tiny / n) if n_tiny else 0.0,
    }
    with psycopg_connection(engine) as conn:
        if reset:
            conn.execute("truncate " + ", ".join(f"recruiting.{t}" for t in _TABLES) + " restart identity cascade")
        # The generator builds referentially correct rows by construction; skipping per-row FK triggers makes the
        # bulk load several times faster. Needs superuser, so fall back to checked inserts when not allowed.
        conn.execute("savepoint replica_role")
        try:
            conn.execute("set local session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            conn.execute("rollback to savepoint replica_role")
        conn.execute(read_sql("seed/00_functions.sql"))
        secondary_indexes = _drop_secondary_indexes(conn)
        _insert_facilities(conn, config)
        report_progress("facilities", config.facilities)
        steps = (
            ("candidates", "seed/10_candidates.sql", params["candidates"], 100),
            ("applications", "seed/20_applications.sql", n, 200),
            ("compliance_checks", "seed/30_compliance.sql", n, 300),
            ("outreach", "seed/60_outreach.sql", 3 * n, 600),
        )
        for table, path, total, salt_offset in steps[:3]:
            _insert_batches(conn, path, total, params, config.seed * 1000 + salt_offset, table, report_progress)
        conn.execute(read_sql("seed/40_placements.sql"), {**params, "salt": config.seed * 1000 + 400})
        report_progress("placements", 0)
        conn.execute(read_sql("seed/50_invoices.sql"), {**params, "salt": config.seed * 1000 + 500})
        report_progress("invoices", 0)
        table, path, total, salt_offset = steps[3]
        _insert_batches(conn, path, total, params, config.seed * 1000 + salt_offset, table, report_progress)
        for index_definition in secondary_indexes:
            conn.execute(index_definition)
        report_progress("indexes", 0)
        for sequence_table in _TABLES:
            conn.execute(
                f"select setval(pg_get_serial_sequence('recruiting.{sequence_table}', 'id'), "
                f"greatest(1, (select coalesce(max(id), 0) from recruiting.{sequence_table})))"
            )
        counts = {
            t: conn.execute(f"select count(*) from recruiting.{t}").fetchone()[0]
            for t in _TABLES
        }
    with psycopg_connection(engine, autocommit=True) as conn:
        conn.execute("analyze " + ", ".join(f"recruiting.{t}" for t in _TABLES))
    return SeedReport(**counts)


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the recruiting tables' non-constraint indexes and return their definitions for re-creation.

    Maintaining a random-order index row by row is most of a bulk load's cost (12x slower inserts measured at 1M
    rows); building it once afterwards is far cheaper. Runs inside the seed's transaction, so a failure restores them.
    """
    rows = conn.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " from pg_index i join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace"
        " where n.nspname = 'recruiting'"
        "   and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)"
    ).fetchall()
    for name, _definition in rows:
        conn.execute(f"drop index {name}")  # a regclass name from the catalog, not user input
    return [definition for _name, definition in rows]


def _insert_batches(conn, path: str, total: int, params: dict, salt: int, label: str, progress: Progress) -> None:
    sql = read_sql(path)
    for lo in range(1, total + 1, BATCH_ROWS):
        hi = min(total, lo + BATCH_ROWS - 1)
        conn.execute(sql, {**params, "salt": salt, "lo": lo, "hi": hi})
        progress(label, hi - lo + 1)


def facility_rows(config: SeedConfig) -> list[tuple[int, str, str, str, str]]:
    """(id, name, region, state, kind) of each demo facility: unique, realistic names, the same for the same seed.

    Hospitals take the lowest ids (the busiest facilities), the last few ids are the tiny rural clinics.
    """
    rng = random.Random(config.seed)
    kinds_by_size = list(dict.fromkeys(kind for _suffix, kind in _KINDS))
    regular = sorted(_unique_names(rng, _KINDS, config.facilities - config.n_tiny),
                     key=lambda named: kinds_by_size.index(named[1]))
    rows = []
    for facility_id, (name, kind) in enumerate(regular + _unique_names(rng, _TINY_KINDS, config.n_tiny), start=1):
        region, states = rng.choice(_STATES)
        rows.append((facility_id, name, region, rng.choice(states), kind))
    return rows


def _unique_names(rng: random.Random, kinds: tuple[tuple[str, str], ...], count: int) -> list[tuple[str, str]]:
    """`count` distinct (name, kind) pairs: place + kind first, then the same with a campus."""
    plain = [(f"{place} {suffix}", kind) for place in _PLACES for suffix, kind in kinds]
    names = rng.sample(plain, min(count, len(plain)))
    if count > len(plain):
        campuses = [(f"{name}, {campus} Campus", kind) for campus in _CAMPUSES for name, kind in plain]
        names += rng.sample(campuses, count - len(plain))
    return names


def _insert_facilities(conn, config: SeedConfig) -> None:
    with conn.cursor().copy("copy recruiting.facilities (id, name, region, state, kind) from stdin") as copy:
        for row in facility_rows(config):
            copy.write_row(row)
