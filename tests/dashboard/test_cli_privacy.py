"""`dashboard privacy-audit`: the exact search over every published row, its exit codes and its record."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from data import privacy_runs
from data.engine import get_engine, psycopg_connection
from data.privacy_audit import audit_dataset
from data.privacy_runs import last_run
from data.refresh import refresh_views
from data.seed import seed

from ..conftest import SEED_CONFIG
from ..data.first_masker import first_masker


def invoke(url: str, *args: str, **env: str):
    return CliRunner().invoke(main, ["privacy-audit", *args], env={"DATABASE_URL": url, "REDIS_URL": "", **env})


def test_the_demo_data_passes_the_audit_and_the_result_is_recorded(make_database) -> None:
    url = make_database()
    engine = get_engine(url)
    seed(engine, SEED_CONFIG)
    refresh_views(engine, ["all"], trigger="cli")
    assert last_run(engine) is None

    result = invoke(url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines[:4]] == ["pipeline", "compliance", "revenue", "outreach"]
    assert all("recoverable 0, undecided 0" in line for line in lines[:4])
    assert lines[-1].startswith("ok: no suppressed count can be solved exactly (k = 5")
    run = last_run(engine)
    assert run is not None and run.ok and run.threshold == 5
    assert [d["dataset"] for d in run.datasets] == ["pipeline", "compliance", "revenue", "outreach"]
    assert all(d["rows_with_hidden_counts"] > 0 and d["fewest_completions"] >= 2 for d in run.datasets)

    only = invoke(url, "--dataset", "revenue", HIPAA_MIN_THRESHOLD="11")
    assert only.exit_code == 0 and only.output.startswith("revenue:") and "(k = 11" in only.output
    assert [d["dataset"] for d in last_run(engine).datasets] == ["revenue"]


@pytest.fixture
def issue_row_database(make_database) -> str:
    """One facility-month of checks whose first-masker result can be solved: 100 passed; 5 low, 7 medium, 4 high
    and 4 critical failures."""
    url = make_database()
    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
        for severity, n in ((None, 100), ("low", 5), ("medium", 7), ("high", 4), ("critical", 4)):
            conn.execute(
                "insert into recruiting.compliance_checks (facility_id, check_type, passed, score, severity,"
                " checked_at) select 1, 'license', %s, 80, %s, %s from generate_series(1, %s)",
                (severity is None, severity, at, n),
            )
    refresh_views(get_engine(url), ["compliance"], trigger="cli")
    return url


def test_unsafe_cells_exit_1_and_are_named_without_their_values(
    issue_row_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(privacy_runs, "audit_dataset", functools.partial(audit_dataset, masker=first_masker))
    result = invoke(issue_row_database, "--dataset", "compliance")
    assert result.exit_code == 1
    assert "recoverable 2" in result.output
    assert "recoverable: compliance facility_id=1 month=2026-03 violations_critical" in result.output
    assert "the audit found suppressed counts that are not safe" in result.output
    run = last_run(get_engine(issue_row_database))
    assert run is not None and not run.ok
    assert run.datasets[0]["named"] == ["compliance facility_id=1 month=2026-03 violations_critical",
                                        "compliance facility_id=1 month=2026-03 violations_high"]
    assert " 4" not in " ".join(run.datasets[0]["named"])


def test_the_product_masker_passes_the_same_row(issue_row_database: str) -> None:
    assert invoke(issue_row_database, "--dataset", "compliance").exit_code == 0


def test_usage_errors_exit_2(issue_row_database: str) -> None:
    assert invoke(issue_row_database, "--dataset", "payroll").exit_code == 2
    assert invoke(issue_row_database, HIPAA_MIN_THRESHOLD="3").exit_code == 2
    off = invoke(issue_row_database, HIPAA_MODE="false")
    assert off.exit_code == 1 and "nothing is suppressed" in off.output
