"""Everything `dashboard demo` prepares before serving: schema, demo data, fresh views."""

from __future__ import annotations

from collections.abc import Iterator

from auth.demo import ensure_demo_users
from dashboard.settings import Settings
from data.engine import get_engine
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import SeedConfig, database_has_data, seed


def prepare_demo(settings: Settings, *, applications: int = 200_000) -> Iterator[str]:
    """Migrate, seed when empty, refresh; yields a line of progress for the terminal at each step."""
    engine = get_engine(settings.database_url)
    report = migrate(engine)
    yield f"schema ready ({len(report.applied)} migration(s) applied)"
    if not database_has_data(engine):
        yield f"seeding {applications:,} demo applications (takes a few seconds)..."
        seed(engine, SeedConfig(applications=applications))
    refresh_views(engine, ["all"], trigger="cli")
    yield "views refreshed"
    yield from ensure_demo_users(engine)
