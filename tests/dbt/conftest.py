"""The dbt tests: they need the dbt extra (pip install -e '.[dbt]'; CI installs it, and there a missing extra is a
failure, not a skip). dbt's target and log folders go to a temporary folder, never the user's home."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from data.dbt import dbt_available
from data.engine import get_engine
from data.seed import seed
from tests.conftest import SEED_CONFIG, require_service


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/dbt/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.dbt)


@pytest.fixture(scope="session", autouse=True)
def dbt_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not dbt_available():
        require_service("dbt is not installed: pip install -e '.[dbt]'")
    folder = tmp_path_factory.mktemp("dbt-state")
    saved = os.environ.get("DASHBOARD_DBT_DIR")
    os.environ["DASHBOARD_DBT_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("DASHBOARD_DBT_DIR", None)
    else:
        os.environ["DASHBOARD_DBT_DIR"] = saved


@pytest.fixture(scope="module")
def dbt_seeded_url(make_database: Callable[[], str]) -> str:
    """A seeded database of this module's own (SEED_CONFIG), refreshed by SQL; dbt builds over it."""
    url = make_database()
    engine = get_engine(url)
    seed(engine, SEED_CONFIG)
    from data.refresh import refresh_views

    refresh_views(engine, ["all"], trigger="cli")
    return url


@pytest.fixture(scope="session")
def scratch_url(make_database: Callable[[], str]) -> str:
    """A migrated database with no data, shared by the tests that only read it (or add a refresh run)."""
    return make_database()
