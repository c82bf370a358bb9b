"""Refreshes with DBT_ENABLED: through the API (recorded, numbers served), a broken model (failed with dbt's
message, previous numbers kept), a busy view (skipped), readers never blocked while dbt writes."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from pathlib import Path

import psycopg
import pytest

from data.dbt import project_dir, run_dbt
from data.engine import get_engine, psycopg_connection
from data.jobs import RefreshJobs
from data.refresh import REFRESH_LOCK_BASE, refresh_views
from tests.conftest import csrf_headers

MONTH = "2026-11-10 12:00+00"


def add_applications(url: str, count: int, hired: int) -> None:
    with psycopg_connection(get_engine(url)) as conn:
        for i in range(count):
            conn.execute("insert into recruiting.applications (facility_id, channel, applied_at, hired_at)"
                         " values (1, 'sms', %s, case when %s then %s::timestamptz + interval '3 days' end)",
                         (MONTH, i < hired, MONTH))


def stored_applications(url: str) -> list[tuple]:
    with psycopg_connection(get_engine(url)) as conn:
        return conn.execute("select facility_id, month::text, applications, hired"
                            " from analytics.pipeline_kpis_materialized order by 1, 2").fetchall()


def test_a_refresh_through_the_api_builds_with_dbt(own_db, client, auth, monkeypatch):
    from auth.context import services_of

    jobs = RefreshJobs(own_db.engine, on_success=lambda views: own_db.service.data_changed(dict.fromkeys(views)),
                       build="dbt")
    monkeypatch.setattr(services_of(client.application), "jobs", jobs)
    admin = own_db.user("admin")
    auth.login(admin.email, own_db.password)
    # Live refresh is off with dbt: these changes wait in the queue for the next (dbt) refresh.
    add_applications(own_db.url, 8, 6)
    response = client.post("/api/v1/analytics/refresh", json={"views": ["all"]}, headers=csrf_headers(client))
    assert response.status_code == 202
    job_id = response.get_json()["job_id"]
    for _ in itertools.repeat(None, 600):
        status = client.get(f"/api/v1/analytics/refresh/{job_id}").get_json()
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert status["status"] == "succeeded", status
    with psycopg_connection(own_db.engine) as conn:
        runs = conn.execute("select view, trigger, status, error from app.refresh_runs where job_id = %s order by id",
                            (job_id,)).fetchall()
        batches = conn.execute("select kind, changes from app.live_batches where view = 'pipeline'"
                               " order by id desc limit 1").fetchall()
    assert runs == [(view, "api", "succeeded", None) for view in ("pipeline", "compliance", "revenue", "outreach")]
    assert batches == [("full", 8)], "the dbt build consumed the captured changes and recorded a full batch"
    body = client.get("/api/v1/analytics/pipeline?start=2026-11&end=2026-11&unmasked=1").get_json()
    assert [(r["month"][:7], r["applications"], r["hired"]) for r in body["rows"]] == [("2026-11", 8, 6)]
    jobs.shutdown()


def test_a_broken_model_fails_the_refresh_with_dbts_message(make_database, tmp_path: Path, monkeypatch):
    url = make_database()
    engine = get_engine(url)
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
        conn.execute("insert into recruiting.invoices (facility_id, amount, invoiced_at) values (1, 10, %s)", (MONTH,))
    assert {r.status for r in refresh_views(engine, ["all"], trigger="cli")} == {"succeeded"}
    add_applications(url, 3, 1)
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.invoices (facility_id, amount, invoiced_at) values (1, 5, %s)", (MONTH,))

    broken = tmp_path / "project"
    shutil.copytree(project_dir(), broken)
    model = broken / "models" / "kpis" / "revenue_kpis.sql"
    model.write_text(model.read_text().replace("sum(amount)", "sum(amount_in_cents)"))
    monkeypatch.setenv("DASHBOARD_DBT_PROJECT", str(broken))

    results = {r.view: r for r in refresh_views(engine, ["pipeline", "revenue"], trigger="cli", build="dbt")}
    assert results["pipeline"].status == "succeeded"
    assert results["revenue"].status == "failed"
    assert "revenue_kpis" in results["revenue"].error and "amount_in_cents" in results["revenue"].error
    with psycopg_connection(engine) as conn:
        recorded = conn.execute("select status, error from app.refresh_runs where id = %s",
                                (results["revenue"].run_id,)).fetchone()
        revenue = conn.execute("select revenue from analytics.revenue_kpis_materialized").fetchall()
        queued = conn.execute("select count(*) from analytics.revenue_changes").fetchone()[0]
    assert recorded == ("failed", results["revenue"].error)
    assert [float(r[0]) for r in revenue] == [10.0], "the previous numbers stay readable"
    assert queued == 1, "the failed build kept the captured change"
    assert stored_applications(url) == [(1, "2026-11-01", 3, 1)]


def test_a_view_another_process_is_refreshing_is_skipped(scratch_url):
    url = scratch_url
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s)", (REFRESH_LOCK_BASE,))
        [result] = refresh_views(get_engine(url), ["pipeline"], trigger="cli", build="dbt")
    assert (result.status, result.error) == ("skipped", "another process is refreshing this view")


def test_readers_are_not_blocked_while_dbt_writes(make_database):
    url = make_database()
    with psycopg_connection(get_engine(url)) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'Harbor General')")
    add_applications(url, 2, 1)
    assert run_dbt(url, ["run", "--select", "pipeline_kpis"], quiet=True).success
    add_applications(url, 3, 0)
    outcome: dict[str, object] = {}
    # dbt writes the rows, then waits 2 s before its commit (a test-only var of the kpi_store materialization).
    builder = threading.Thread(target=lambda: outcome.update(run=run_dbt(
        url, ["run", "--select", "pipeline_kpis", "--vars", "{kpi_pause_seconds: 2}"], quiet=True)))
    builder.start()
    libpq = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as watcher:
        for _ in itertools.repeat(None, 300):
            if watcher.execute("select exists (select from pg_stat_activity where datname = current_database()"
                               " and wait_event = 'PgSleep' and pid <> pg_backend_pid())").fetchone()[0]:
                break
            time.sleep(0.1)
        else:
            pytest.fail("dbt never reached its pause")
        with psycopg.connect(libpq) as reader:
            reader.execute("set lock_timeout = '200ms'")
            seen = reader.execute("select applications, hired from analytics.pipeline_kpis_materialized").fetchall()
            reader.execute("select count(*) from analytics.pipeline_kpis_live").fetchone()
    builder.join(60)
    assert seen == [(2, 1)], "readers see the previous numbers while dbt writes, without waiting"
    assert outcome["run"].success
    assert stored_applications(url) == [(1, "2026-11-01", 5, 1)]
