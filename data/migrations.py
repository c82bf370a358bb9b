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


# Whole-file checksums these migrations were recorded with before their header comments were corrected (they
# cited a design document the repository does not have): databases migrated before then still match.
_EARLIER_CHECKSUMS = {
    "001_recruiting_schema": "ee17e08756ef89147a2b6b0467e1b43b2443cc5f7c5e7dc8b345a37be7405e80",
    "002_app_schema": "e6ad3c08755c204ffa45fd01726f45cd95ac24d383786901d8f71ab16e00ac16",
    "003_analytics_views": "cdef9d4d33c05661e2f38797b6628749d752090d2d622e3d94e8cc8a2ae75f6b",
}


def checksum(text: str) -> str:
    """sha256 of the migration without its header, the comment lines it starts with: the header says why and may
    be corrected after the migration was applied; every statement and every other comment counts."""
    lines = text.splitlines(keepends=True)
    header = 0
    while header < len(lines) and lines[header].startswith("--"):
        header += 1
    return _sha256("".join(lines[header:]))


def accepted_checksums(version: str, text: str) -> set[str]:
    """What a database may have recorded for this file: today's checksum, or the whole-file one used before headers
    were left out (for a file unchanged since, or one whose header has been corrected since)."""
    return {checksum(text), _sha256(text)} | ({_EARLIER_CHECKSUMS[version]} if version in _EARLIER_CHECKSUMS else set())


def _sha256(text: str) -> str:
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
                    if recorded[version] not in accepted_checksums(version, text):
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
