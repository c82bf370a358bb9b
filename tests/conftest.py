"""Shared fixtures: real PostgreSQL databases made and dropped per test session, real Redis, real Chromium.

DATABASE_URL (any database on the server) picks the server; unset, an embedded server (pgserver) is started.
Tests never assume data they did not load.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url
from data.engine import dispose_all, get_engine
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import SeedConfig, seed

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# A fixed anchor makes the seeded test data identical on every run, whatever today is.
SEED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SEED_CONFIG = SeedConfig(applications=6000, facilities=9, months=14, seed=7, now=SEED_NOW)


def require_service(reason: str) -> None:
    """Skip on a bare machine; under CI a missing service is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server_url() -> str:
    """SQLAlchemy URL of the maintenance database of the PostgreSQL server the tests use."""
    raw = os.environ.get("DATABASE_URL")
    if raw:
        return parse_database_url(raw)
    from data.embedded import start_embedded

    return start_embedded()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator[Callable[[], str]]:
    """Factory: a new migrated database on the test server; all are dropped at the end of the session."""
    created: list[str] = []
    template = f"recruit_tmpl_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(_libpq(server_url), autocommit=True)
    admin.execute(f'create database "{template}"')
    created.append(template)
    template_url = make_url(server_url).set(database=template).render_as_string(hide_password=False)
    migrate(get_engine(template_url))
    get_engine(template_url).dispose()

    def factory() -> str:
        name = f"recruit_test_{uuid.uuid4().hex[:8]}"
        admin.execute(f'create database "{name}" template "{template}"')
        created.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield factory
    dispose_all()
    for name in reversed(created):
        admin.execute(f'drop database if exists "{name}" with (force)')
    admin.close()


@pytest.fixture(scope="session")
def seed_config() -> SeedConfig:
    """The configuration `seeded_url` was seeded with (anchored at SEED_NOW)."""
    return SEED_CONFIG


@pytest.fixture(scope="session")
def seeded_url(make_database: Callable[[], str]) -> str:
    """A database seeded once per session with SEED_CONFIG and refreshed; tests must not modify it."""
    url = make_database()
    engine = get_engine(url)
    seed(engine, SEED_CONFIG)
    refresh_views(engine, ["all"], trigger="cli")
    return url


@pytest.fixture(scope="session")
def seeded_engine(seeded_url: str) -> Engine:
    return get_engine(seeded_url)


@pytest.fixture
def empty_engine(make_database: Callable[[], str]) -> Engine:
    """A fresh migrated, empty database of this test's own."""
    return get_engine(make_database())


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        require_service(f"Redis is not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def chromium_available() -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        require_service("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")


def _redis_if_reachable() -> str | None:
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {url} (required under CI)")
        return None
    return url


@pytest.fixture(scope="session")
def app(seeded_url: str):
    """The session's one Dash app (Dash binds every @dash.callback to the first app created), on the seeded database."""
    from dashboard.app import create_app
    from dashboard.settings import Settings

    settings = Settings(
        database_url=seeded_url,
        redis_url=_redis_if_reachable(),
        secret_key="test-secret-key-not-for-production",
        session_cookie_secure=False,
        scheduler_enabled=False,
        masked_release_interval=0,  # tests that release masked data in batches make their own services
        demo=False,
    )
    dash_app = create_app(settings)
    dash_app.server.config.update(TESTING=True)
    return dash_app


@pytest.fixture
def client(app):
    """A test client with its own client address, so per-IP sign-in limits never carry over between tests."""
    test_client = app.server.test_client()
    octets = uuid.uuid4().bytes[:3]
    test_client.environ_base["REMOTE_ADDR"] = "10." + ".".join(str(b) for b in octets)
    return test_client


def csrf_headers(client) -> dict[str, str]:
    """The CSRF header a signed-in page's script sends (from the `_csrf_token` cookie), for POSTs with a session."""
    cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value} if cookie is not None else {}


class AuthActions:
    """flaskr-style helper: `auth.login(email, password)` through the real form (CSRF token included)."""

    def __init__(self, client) -> None:
        self._client = client

    def csrf_token(self) -> str:
        import re

        page = self._client.get("/login").get_data(as_text=True)
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def login(self, email: str, password: str, next_url: str | None = None):
        path = "/login" if next_url is None else f"/login?next={next_url}"
        data = {"email": email, "password": password, "csrf_token": self.csrf_token()}
        return self._client.post(path, data=data)

    def logout(self):
        return self._client.post("/logout", headers=csrf_headers(self._client))


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def make_user(app) -> Callable[..., tuple[object, str]]:
    """Factory: `make_user("recruiter", facilities=(1, 2))` -> (User, password), a fresh unique email each call."""
    from auth.context import services_of
    from auth.users import create_user

    engine = services_of(app.server).engine

    def factory(role: str, facilities: tuple[int, ...] = (), password: str = "correct horse battery") -> tuple:
        email = f"{role}-{uuid.uuid4().hex[:10]}@test.example"
        return create_user(engine, email, password, role, facilities), password

    return factory


class OwnDatabase:
    """A database of one test's own behind the session app (for tests that refresh or otherwise write)."""

    password = "correct horse battery"

    def __init__(self, url: str, service: object, jobs: object) -> None:
        self.url, self.service, self.jobs = url, service, jobs
        self.engine: Engine = service.engine

    def user(self, role: str, facilities: tuple[int, ...] = ()) -> object:
        from auth.users import create_user

        return create_user(self.engine, f"{role}-{uuid.uuid4().hex[:10]}@test.example", self.password, role,
                           facilities or ((1,) if role == "recruiter" else ()))

    @contextmanager
    def table_locked(self, table: str) -> Iterator[None]:
        """Lock a table a view is computed from, so a refresh of that view stays running until the block ends."""
        with psycopg.connect(_libpq(self.url)) as conn:
            conn.execute(f"lock table {table} in access exclusive mode")
            yield
            conn.rollback()


@pytest.fixture
def own_db(make_database: Callable[[], str], app, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnDatabase]:
    """A migrated database with one facility (id 1) and no data, swapped in as the app's engine, analytics service
    (in-process cache) and refresh jobs for this test. Create its users with `own_db.user(role)`."""
    from cachelib import SimpleCache

    from auth.context import services_of
    from data.cache import DatasetCache, LocalVersions
    from data.engine import psycopg_connection
    from data.jobs import RefreshJobs
    from data.masking import MaskPolicy
    from data.service import AnalyticsService

    url = make_database()
    engine = get_engine(url)
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
    service = AnalyticsService(engine, DatasetCache(SimpleCache(), LocalVersions(), 300),
                               MaskPolicy(enabled=True, threshold=5))
    jobs = RefreshJobs(engine, on_success=lambda views: service.data_changed(dict.fromkeys(views)))
    bound = services_of(app.server)
    for name, value in (("engine", engine), ("analytics", service), ("jobs", jobs)):
        monkeypatch.setattr(bound, name, value)
    yield OwnDatabase(url, service, jobs)
    jobs.shutdown()
