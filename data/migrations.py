"""Apply the numbered SQL migrations in order, once each, under an advisory lock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Engine

from data.engine import psycopg_connection
from data.sqlfiles import migration_files

# Any constant works; it only has to differ from the refresh locks (data/refresh.py).
MIGRATION_LOCK_KEY = 7_316_001


class MigrationError(RuntimeError):
    """A migration cannot be applied safely (e.g. an applied file was edited afterwards)."""


@dataclass(frozen=True)
class MigrationReport:
    applied: list[str]
    already_applied: list[str]


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def migrate(engine: Engine) -> MigrationReport:
    """Apply every pending migration, each in its own transaction; a second run is a no-op.

    Refuses (MigrationError) when an applied file's checksum no longer matches: editing history silently would
    leave databases that claim the same version but differ.
    """
    with psycopg_connection(engine, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                "create table if not exists public.schema_migrations ("
                " version text primary key, checksum text not null, applied_at timestamptz not null default now())"
            )
            recorded = dict(conn.execute("select version, checksum from public.schema_migrations").fetchall())
            applied, skipped = [], []
            for version, text in migration_files():
                digest = checksum(text)
                if version in recorded:
                    if recorded[version] != digest:
                        raise MigrationError(
                            f"migration {version} was edited after it was applied "
                            f"(checksum {recorded[version][:12]} in the database, {digest[:12]} on disk); "
                            "add a new migration instead of changing an applied one"
                        )
                    skipped.append(version)
                    continue
                with conn.transaction():
                    conn.execute(text)
                    conn.execute(
                        "insert into public.schema_migrations (version, checksum) values (%s, %s)",
                        (version, digest),
                    )
                applied.append(version)
            return MigrationReport(applied=applied, already_applied=skipped)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
