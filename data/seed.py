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
_CITIES = (
    "Riverside", "Lakeview", "Mercy", "St. Anne's", "Northgate", "Cedar Valley", "Harbor", "Summit", "Oak Ridge",
    "Bayfront", "Pine Hollow", "Eastside", "Westbrook", "Silver Lake", "Fairview", "Maple Grove", "Highland",
    "Brookside", "Granite Peak", "Sunnyvale", "Willow Creek", "Kingsport", "Ashford", "Clearwater",
)
_KINDS = (
    ("General Hospital", "hospital"), ("Medical Center", "hospital"), ("Rehabilitation Center", "rehab"),
    ("Skilled Nursing Facility", "skilled_nursing"), ("Community Clinic", "clinic"), ("Behavioral Health", "clinic"),
)
_STATES = (("Northeast", ("NY", "MA", "PA", "NJ")), ("South", ("TX", "FL", "GA", "NC")),
           ("Midwest", ("IL", "OH", "MI", "MN")), ("West", ("CA", "WA", "OR", "AZ")))

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

    def validate(self) -> None:
        if self.applications < 1:
            raise SeedError("--applications must be at least 1")
        if self.facilities < 1:
            raise SeedError("--facilities must be at least 1")
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


def seed(engine: Engine, config: SeedConfig, *, reset: bool = False, progress: Progress | None = None) -> SeedReport:
    """Fill the recruiting tables; refuses to write into a non-empty database unless `reset`."""
    config.validate()
    report_progress = progress or (lambda _step, _n: None)
    if database_has_data(engine) and not reset:
        raise SeedError("the database already holds data; pass --reset to replace it")
    now = (config.now or datetime.now(UTC)).replace(microsecond=0)
    window_start_month = add_months(current_month(now), -(config.months - 1))
    window_start = datetime(window_start_month.year, window_start_month.month, 1, tzinfo=UTC)
    n = config.applications
    n_tiny = 0 if config.facilities < 4 else max(1, round(config.facilities * 0.08))
    n_regular = config.facilities - n_tiny
    params = {
        "now": now,
        "window_start": window_start,
        "months": config.months,
        "candidates": max(1, math.ceil(n * 0.8)),
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


def _insert_facilities(conn, config: SeedConfig) -> None:
    """Facility names, regions and kinds; the last few ids are the tiny rural clinics."""
    rng = random.Random(config.seed)
    n_tiny = 0 if config.facilities < 4 else max(1, round(config.facilities * 0.08))
    rows, used = [], set()
    for facility_id in range(1, config.facilities + 1):
        tiny = facility_id > config.facilities - n_tiny
        suffix, kind = ("Rural Clinic", "clinic") if tiny else rng.choice(_KINDS)
        name = f"{rng.choice(_CITIES)} {suffix}"
        while name in used:
            name = f"{rng.choice(_CITIES)} {suffix} {len(used) + 1}"
        used.add(name)
        region, states = rng.choice(_STATES)
        rows.append((facility_id, name, region, rng.choice(states), kind))
    with conn.cursor().copy("copy recruiting.facilities (id, name, region, state, kind) from stdin") as copy:
        for row in rows:
            copy.write_row(row)
