"""Shared fixtures: real PostgreSQL databases made and dropped per test, real Redis, real Chromium.

DATABASE_URL (any database on the server) picks the server; unset, an embedded server (pgserver) is started.
Tests never assume data they did not load. A good neighbour on a shared server: small pools (POOL_SIZE,
MAX_OVERFLOW, also for the servers tests start), each test's own databases dropped when it ends, and the suite's peak
connection count sampled for tests/test_zz_connections.py (run last). REDIS_URL picks the Redis; unset, db 15 of
the local one (flushed at the start, and nothing else is touched). Tests that need Redis, and only those, carry the
`redis` marker (checked at collection).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from dashboard.settings import parse_database_url
from data.engine import configure_pool, dispose_all, dispose_engine, get_engine
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import SeedConfig, seed

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# A fixed anchor makes the seeded test data identical on every run, whatever today is.
SEED_NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SEED_CONFIG = SeedConfig(applications=6000, facilities=9, months=14, seed=7, now=SEED_NOW)
# Connections per engine in tests (and in the servers tests start, through the environment).
POOL_SIZE, MAX_OVERFLOW = 2, 3
os.environ.setdefault("DATABASE_POOL_SIZE", str(POOL_SIZE))
os.environ.setdefault("DATABASE_MAX_OVERFLOW", str(MAX_OVERFLOW))
configure_pool(POOL_SIZE, MAX_OVERFLOW)
# With REDIS_URL unset: a dedicated database of the local Redis, never db 0 of whatever answers.
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
REDIS_FIXTURES = frozenset({"redis_url", "second_redis"})
LAST_MODULE = "test_zz_connections.py"


def redis_url_for_tests() -> str:
    return os.environ.get("REDIS_URL") or TEST_REDIS_URL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The `redis` marker on exactly the tests that use Redis (a Redis fixture); the connection check last."""
    wrong = []
    for item in items:
        uses = bool(REDIS_FIXTURES & set(getattr(item, "fixturenames", ())))
        marked = item.get_closest_marker("redis") is not None
        if uses != marked:
            wrong.append(f"{item.nodeid}: {'uses Redis without' if uses else 'has'} the redis marker"
                         f"{'' if uses else ' but uses no Redis fixture'}")
    if wrong:
        raise pytest.UsageError("redis markers do not match Redis use:\n  " + "\n  ".join(wrong))
    items.sort(key=lambda item: item.path.name == LAST_MODULE)


class ConnectionSampler:
    """Samples pg_stat_activity for this session's test databases (never other sessions' on a shared server)."""

    interval = 0.1

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.databases: set[str] = set()
        self.peak = 0
        self.peak_at = ""
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connection-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self, conn: psycopg.Connection, where: str = "") -> int:
        count = conn.execute("select count(*) from pg_stat_activity where datname = any(%s)",
                             (sorted(self.databases),)).fetchone()[0]
        self.samples += 1
        if count > self.peak:
            self.peak, self.peak_at = count, where or os.environ.get("PYTEST_CURRENT_TEST", "")
        return count

    def _run(self) -> None:
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                if self.databases:
                    self.sample(conn)


@pytest.fixture(scope="session")
def connection_sampler(server_url: str) -> Iterator[ConnectionSampler]:
    sampler = ConnectionSampler(server_url)
    sampler.start()
    yield sampler
    sampler.stop()


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


class Databases:
    """Migrated databases made from one template; `drop_since(n)` drops those made after the n-th."""

    def __init__(self, server_url: str, sampler: ConnectionSampler) -> None:
        self.server_url, self.sampler = server_url, sampler
        self.created: list[str] = []
        self.admin = psycopg.connect(_libpq(server_url), autocommit=True)
        self.template = f"recruit_tmpl_{uuid.uuid4().hex[:8]}"
        self.admin.execute(f'create database "{self.template}"')
        sampler.databases.add(self.template)
        template_url = self.url(self.template)
        migrate(get_engine(template_url))
        dispose_engine(template_url)

    def url(self, name: str) -> str:
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def create(self) -> str:
        name = f"recruit_test_{uuid.uuid4().hex[:8]}"
        self.admin.execute(f'create database "{name}" template "{self.template}"')
        self.created.append(name)
        self.sampler.databases.add(name)
        return self.url(name)

    def drop_since(self, count: int) -> None:
        while len(self.created) > count:
            name = self.created.pop()
            dispose_engine(self.url(name))
            self.admin.execute(f'drop database if exists "{name}" with (force)')

    def close(self) -> None:
        dispose_all()
        self.drop_since(0)
        self.admin.execute(f'drop database if exists "{self.template}" with (force)')
        self.admin.close()


@pytest.fixture(scope="session")
def databases(server_url: str, connection_sampler: ConnectionSampler) -> Iterator[Databases]:
    made = Databases(server_url, connection_sampler)
    yield made
    made.close()


@pytest.fixture(scope="session")
def make_database(databases: Databases) -> Callable[[], str]:
    """Factory: a new migrated database on the test server. One made by a test (or its function-scoped fixtures)
    is dropped when that test ends, one made by a module or session fixture when the session ends."""
    return databases.create


@pytest.fixture(autouse=True)
def _drop_this_tests_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Set up after every wider-scoped fixture and torn down after every function-scoped one: the databases made in
    between belong to this test."""
    if "make_database" not in request.fixturenames:
        yield
        return
    made: Databases = request.getfixturevalue("databases")
    before = len(made.created)
    yield
    made.drop_since(before)


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

    url = redis_url_for_tests()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except redis.exceptions.RedisError as exc:
        require_service(f"Redis is not reachable at {url}: {exc}")
    return url


@pytest.fixture(scope="session")
def chromium_available() -> None:
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        require_service("Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")


def _redis_if_reachable() -> str | None:
    import redis

    url = redis_url_for_tests()
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        if IN_CI:
            pytest.fail(f"Redis is not reachable at {url} (required under CI)")
        return None
    return url


@pytest.fixture(scope="session", autouse=True)
def _flush_the_test_redis_database() -> None:
    """With REDIS_URL unset, start from an empty db 15 (only that one); a given REDIS_URL is left as it is."""
    if os.environ.get("REDIS_URL"):
        return
    import redis

    with suppress(redis.exceptions.RedisError):
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).flushdb()


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
        database_pool_size=POOL_SIZE,
        database_max_overflow=MAX_OVERFLOW,
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
