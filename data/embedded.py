"""An embedded PostgreSQL server for `dashboard demo` and local tests when DATABASE_URL is unset.

Uses the pip-installable `pgserver` package (PostgreSQL binaries in a wheel), so no database needs installing.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path(os.environ.get("DASHBOARD_PGDATA", Path.home() / ".local/share/recruit-dashboard/pgdata"))


def start_embedded(data_dir: Path | None = None) -> str:
    """Start (or reuse) the embedded server in `data_dir` and return a SQLAlchemy URL for its `postgres` database."""
    import pgserver

    directory = Path(data_dir or DEFAULT_DATA_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(directory, cleanup_mode=None)
    uri = server.get_uri()
    return "postgresql+psycopg://" + uri.split("://", 1)[1]
