"""`dashboard users ...` and `dashboard tokens ...` (dashboard/cli.py): exit 0 done, 1 refused, 2 usage."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

from auth.tokens import user_for_token
from auth.users import authenticate, get_user_by_email
from dashboard.cli import main
from data.engine import get_engine, psycopg_connection


@pytest.fixture
def database(make_database: Callable[[], str]) -> Iterator[str]:
    url = make_database()
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'North'), (2, 'South'), (3, 'East')")
    yield url
    get_engine(url).dispose()  # the whole suite shares the server's max_connections: close this test's pool


@pytest.fixture
def engine(database: str) -> Engine:
    return get_engine(database)


@pytest.fixture
def run(database: str) -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: str, password: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=password, env={"DATABASE_URL": database})

    return invoke


def create(run: Callable[..., Result], email: str, role: str, *facilities: int, password: str = "pass phrase 1\n"):
    args = ["users", "create", "--email", email, "--role", role, "--password-stdin"]
    for facility in facilities:
        args += ["--facility", str(facility)]
    return run(*args, password=password)


def test_create_and_list(run, engine) -> None:
    assert create(run, "Admin@X.org", "admin").exit_code == 0
    result = create(run, "rec@x.org", "recruiter", 2, 1, password="  spaced passphrase  \n")
    assert result.exit_code == 0, result.output
    assert authenticate(engine, "rec@x.org", "  spaced passphrase  ") is not None  # only the newline is stripped
    listing = run("users", "list")
    assert listing.exit_code == 0
    assert listing.stdout.splitlines() == [
        "admin@x.org\tadmin\tactive\tfacilities=all",
        "rec@x.org\trecruiter\tactive\tfacilities=1,2",
    ]


def test_password_never_reaches_the_output_or_the_database_in_clear(run, engine) -> None:
    result = create(run, "v@x.org", "viewer", password="hunter2-hunter2\n")
    assert "hunter2" not in result.output
    with psycopg_connection(engine) as conn:
        stored = conn.execute("select password_hash from app.users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "hunter2" not in stored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rec@x.org", "recruiter"), "a recruiter needs at least one facility"),
        (("rec@x.org", "recruiter", 9), "unknown facility id(s): 9"),
        (("v@x.org", "viewer", 1), "only recruiters are assigned facilities; a viewer sees every facility"),
        (("a@x.org", "admin", 1), "only recruiters are assigned facilities; an admin sees every facility"),
    ],
)
def test_refused_creations_exit_1_with_one_line(run, engine, args: tuple, message: str) -> None:
    result = create(run, *args)
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("Error: ") and message in line
    assert get_user_by_email(engine, args[0]) is None


def test_duplicate_email_and_short_password_are_refused(run) -> None:
    assert create(run, "v@x.org", "viewer").exit_code == 0
    assert create(run, "V@x.ORG", "viewer").exit_code == 1
    assert create(run, "w@x.org", "viewer", password="short\n").exit_code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["users", "create", "--email", "v@x.org", "--role", "owner", "--password-stdin"],
        ["users", "create", "--email", "v@x.org", "--role", "viewer"],
        ["users", "create", "--role", "viewer", "--password-stdin"],
        ["users", "set-facilities", "--email", "v@x.org"],
        ["users", "create", "--email", "v@x.org", "--role", "recruiter", "--facility", "x", "--password-stdin"],
    ],
)
def test_usage_errors_exit_2(run, args: list[str]) -> None:
    assert run(*args, password="pass phrase 1\n").exit_code == 2


def test_set_facilities_and_deactivate(run, engine) -> None:
    create(run, "rec@x.org", "recruiter", 1)
    result = run("users", "set-facilities", "--email", "REC@x.org", "--facility", "3", "--facility", "2")
    assert result.exit_code == 0 and get_user_by_email(engine, "rec@x.org").facility_ids == (2, 3)
    assert run("users", "set-facilities", "--email", "rec@x.org", "--facility", "7").exit_code == 1
    assert run("users", "set-facilities", "--email", "ghost@x.org", "--facility", "1").exit_code == 1
    assert run("users", "deactivate", "--email", "rec@x.org").exit_code == 0
    assert "rec@x.org\trecruiter\tinactive\tfacilities=2,3" in run("users", "list").stdout
    assert run("users", "deactivate", "--email", "ghost@x.org").exit_code == 1


def test_tokens_create_and_revoke(run, engine) -> None:
    create(run, "api@x.org", "viewer")
    result = run("tokens", "create", "--email", "api@x.org")
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert get_user_by_email(engine, "api@x.org") == user_for_token(engine, token)
    with psycopg_connection(engine) as conn:
        stored = conn.execute("select token_hash from app.api_tokens").fetchone()[0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    revoked = run("tokens", "revoke", "--email", "API@x.org")
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.stdout
    assert user_for_token(engine, token) is None


def test_tokens_for_unknown_or_deactivated_users_are_refused(run) -> None:
    assert run("tokens", "create", "--email", "ghost@x.org").exit_code == 1
    assert run("tokens", "revoke", "--email", "ghost@x.org").exit_code == 1
    create(run, "v@x.org", "viewer")
    run("users", "deactivate", "--email", "v@x.org")
    assert run("tokens", "create", "--email", "v@x.org").exit_code == 1


def test_tokens_create_with_expiry_and_list(run, engine) -> None:
    create(run, "api@x.org", "viewer")
    default = run("tokens", "create", "--email", "api@x.org")
    short = run("tokens", "create", "--email", "api@x.org", "--expires-in", "30d")
    assert default.exit_code == short.exit_code == 0
    assert "expires" in short.stderr
    secrets = [r.stdout.strip().splitlines()[-1] for r in (default, short)]
    run("tokens", "revoke", "--email", "api@x.org")
    listing = run("tokens", "list", "--email", "API@x.org")
    assert listing.exit_code == 0
    header, *rows = listing.stdout.splitlines()
    assert header.split("\t") == ["id", "created", "last_used", "expires", "revoked"]
    assert len(rows) == 2 and all(secret not in listing.output for secret in secrets)
    created, expires = (rows[1].split("\t")[i] for i in (1, 3))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", expires) and rows[1].split("\t")[4] != "-"
    from datetime import datetime

    days = (datetime.fromisoformat(expires) - datetime.fromisoformat(created)).days
    assert days in (29, 30)


@pytest.mark.parametrize("value", ["0d", "366d", "90", "ninety", "-5d"])
def test_tokens_create_refuses_a_bad_expiry_with_exit_2(run, value: str) -> None:
    create(run, "api@x.org", "viewer")
    result = run("tokens", "create", "--email", "api@x.org", "--expires-in", value)
    assert result.exit_code == 2 and "--expires-in" in result.output


def test_tokens_list_for_unknown_user_is_refused(run) -> None:
    assert run("tokens", "list", "--email", "ghost@x.org").exit_code == 1
