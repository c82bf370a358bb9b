"""The JSON API through the real app: real PostgreSQL (seeded), real Redis when reachable, real sign-in."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from auth.context import services_of
from data.engine import psycopg_connection
from data.specs import DATASETS
from tests.conftest import csrf_headers

RANGE = "start=2025-05&end=2026-06"
COUNT_FIELDS = {name: set(spec.count_columns) for name, spec in DATASETS.items()}


@pytest.fixture
def viewer(client, auth, make_user):
    user, password = make_user("viewer")
    auth.login(user.email, password)
    return client


def get(client, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def assert_no_small_counts(body: dict, dataset: str, k: int) -> None:
    for row in body["rows"]:
        for field in COUNT_FIELDS[dataset]:
            value = row[field]
            assert value is None or value == 0 or value >= k, (dataset, field, row)
            if value is None:
                assert field in row["suppressed"]


@pytest.mark.parametrize("dataset", ["pipeline", "compliance", "revenue", "outreach"])
def test_a_viewer_gets_the_documented_shape_and_never_a_small_count(viewer, dataset):
    body = get(viewer, f"/api/v1/analytics/{dataset}?{RANGE}")
    assert set(body) == {"dataset", "as_of", "threshold", "filters", "suppressed_cells", "rows"}
    assert body["dataset"] == dataset and body["threshold"] == 5 and body["as_of"].endswith("Z")
    assert body["filters"] == {"facility_ids": list(range(1, 10)), "start": "2025-05", "end": "2026-06",
                               "channel": None}
    row = body["rows"][0]
    assert {"facility_id", "facility_name", "month", "suppressed"} <= set(row)
    assert set(DATASETS[dataset].value_columns) <= set(row)
    assert_no_small_counts(body, dataset, 5)
    assert body["suppressed_cells"] == sum(len(r["suppressed"]) for r in body["rows"]) > 0
    if dataset == "revenue":
        published = [r["revenue"] for r in body["rows"] if r["revenue"] is not None]
        assert all(isinstance(v, str) and v.split(".")[1].__len__() == 2 for v in published)


@pytest.mark.parametrize("subset", [(1,), (8, 9), (2, 8, 9), (9,)])
def test_no_facility_subset_reveals_a_small_count(viewer, subset):
    query = "&".join(f"facility_id={f}" for f in subset)
    for dataset in ("pipeline", "compliance", "outreach"):
        assert_no_small_counts(get(viewer, f"/api/v1/analytics/{dataset}?{query}&{RANGE}"), dataset, 5)


def test_two_selections_never_let_a_hidden_value_be_derived(viewer):
    """kpis({A, B}) - kpis({A}) equals B's published cells alone: the difference reveals nothing hidden."""
    both = get(viewer, f"/api/v1/analytics/kpis?facility_id=1&facility_id=9&{RANGE}")["rows"][0]
    only_a = get(viewer, f"/api/v1/analytics/kpis?facility_id=1&{RANGE}")["rows"][0]
    rows_b = get(viewer, f"/api/v1/analytics/pipeline?facility_id=9&{RANGE}")["rows"]
    published_b = sum(r["applications"] for r in rows_b if r["applications"] is not None)
    assert both["applications"] - only_a["applications"] == published_b
    hidden_b = [r for r in rows_b if r["applications"] is None]
    assert hidden_b, "facility 9 is a tiny clinic with suppressed months in the test data"
    assert both["partial"] is True and both["excluded_cells"] > 0


def test_kpis_has_one_row_with_partial_and_excluded_cells(viewer):
    body = get(viewer, f"/api/v1/analytics/kpis?{RANGE}")
    assert len(body["rows"]) == 1
    row = body["rows"][0]
    for field in ("applications", "hired", "hire_rate", "time_to_fill_days", "checks", "passed", "compliance_rate",
                  "revenue", "placements", "sent", "responded", "response_rate", "outreach_conversion_rate",
                  "partial", "excluded_cells"):
        assert field in row
    assert isinstance(row["revenue"], str) and 0 < row["hire_rate"] < 1


def test_recruiter_scope_is_enforced(client, auth, make_user):
    user, password = make_user("recruiter", facilities=(2, 3))
    auth.login(user.email, password)
    body = get(client, f"/api/v1/analytics/pipeline?{RANGE}")
    assert {r["facility_id"] for r in body["rows"]} == {2, 3}
    assert body["filters"]["facility_ids"] == [2, 3]
    assert "error" in get(client, f"/api/v1/analytics/pipeline?facility_id=4&{RANGE}", 403)
    get(client, f"/api/v1/analytics/pipeline?facility_id=2&facility_id=5&{RANGE}", 403)
    get(client, f"/api/v1/export/pipeline.csv?facility_id=5&{RANGE}", 403)
    get(client, f"/api/v1/analytics/compliance/violations?facility_id=4&{RANGE}", 403)
    pii = get(client, f"/api/v1/analytics/compliance/violations?{RANGE}")
    assert pii["rows"] and {r["facility_id"] for r in pii["rows"]} <= {2, 3}
    assert all("@" in r["email"] for r in pii["rows"])


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("start=2026-13", 400, "YYYY-MM"),
        ("start=2026-05&end=2026-01", 400, "after end"),
        ("facility_id=abc", 400, "positive integer"),
        ("facility=1", 400, "unknown parameter"),
        ("channel=sms", 400, "outreach"),
        ("unmasked=maybe", 400, "unmasked"),
        ("unmasked=1", 403, "view_unmasked"),
        ("facility_id=999", 404, "999"),
    ],
)
def test_bad_parameters_get_a_clear_error(viewer, query, status, message):
    body = get(viewer, f"/api/v1/analytics/pipeline?{query}", status)
    assert message in body["error"]


def test_unknown_dataset_is_404(viewer):
    assert "unknown dataset" in get(viewer, "/api/v1/analytics/payroll", 404)["error"]


def test_viewers_cannot_see_pii_or_refresh(viewer):
    get(viewer, f"/api/v1/analytics/compliance/violations?{RANGE}", 403)
    assert viewer.post("/api/v1/analytics/refresh", json={"views": ["all"]},
                       headers=csrf_headers(viewer)).status_code == 403
    get(viewer, "/api/v1/analytics/queue/stats", 403)


def test_an_admin_can_see_unsuppressed_figures_and_that_is_audited(app, client, auth, make_user):
    user, password = make_user("admin")
    auth.login(user.email, password)
    masked = get(client, f"/api/v1/analytics/pipeline?facility_id=9&{RANGE}")
    unmasked = get(client, f"/api/v1/analytics/pipeline?facility_id=9&unmasked=1&{RANGE}")
    assert masked["suppressed_cells"] > 0 and unmasked["suppressed_cells"] == 0
    assert any(r["applications"] is not None and 0 < r["applications"] < 5 for r in unmasked["rows"])
    with psycopg_connection(services_of(app.server).engine) as conn:
        rows = conn.execute("select target, details from app.audit_log where action = 'unmasked_view'"
                            " and user_id = %s", (user.id,)).fetchall()
    assert rows == [("pipeline", {"facility_ids": [9], "start": "2025-05", "end": "2026-06"})]


def test_sql_metacharacters_change_nothing(app, viewer):
    engine = services_of(app.server).engine
    with psycopg_connection(engine) as conn:
        before = conn.execute("select count(*) from recruiting.applications").fetchone()[0]
    for query in ("facility_id=1;drop table recruiting.applications", "start=2026-01'--",
                  "channel=sms';delete from recruiting.outreach;--", "end=2026-06%27%20or%201=1"):
        response = viewer.get(f"/api/v1/analytics/outreach?{query}")
        assert response.status_code == 400
    with psycopg_connection(engine) as conn:
        assert conn.execute("select count(*) from recruiting.applications").fetchone()[0] == before


@pytest.mark.parametrize("dataset", ["pipeline", "compliance", "revenue", "outreach"])
def test_csv_export_equals_the_api_rows_and_is_audited(app, viewer, dataset):
    body = get(viewer, f"/api/v1/analytics/{dataset}?{RANGE}")
    response = viewer.get(f"/api/v1/export/{dataset}.csv?{RANGE}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [k for k in body["rows"][0] if k != "suppressed"]
    assert len(rows) == len(body["rows"])
    for csv_row, json_row in zip(rows, body["rows"], strict=True):
        for field, value in csv_row.items():
            expected = json_row[field]
            if field in json_row["suppressed"]:
                assert value == "suppressed"
            else:
                assert value == ("" if expected is None else str(expected))
    small = [v for row in rows for f, v in row.items() if f in COUNT_FIELDS[dataset] and v.isdigit()
             and 0 < int(v) < 5]
    assert small == []
    with psycopg_connection(services_of(app.server).engine) as conn:
        details = conn.execute("select details from app.audit_log where action = 'export'"
                               " order by id desc limit 1").fetchone()[0]
    assert details["suppressed_cells"] == body["suppressed_cells"]


def test_refresh_api_for_admins(client, auth, make_user, app):
    user, password = make_user("admin")
    auth.login(user.email, password)
    response = client.post("/api/v1/analytics/refresh", json={"views": ["outreach"]}, headers=csrf_headers(client))
    assert response.status_code == 202
    job = response.get_json()
    assert set(job) >= {"job_id", "status"}
    for _ in itertools.repeat(None, 400):
        status = get(client, f"/api/v1/analytics/refresh/{job['job_id']}")
        if status["status"] in ("succeeded", "failed"):
            break
    assert status["status"] == "succeeded" and status["views"] == ["outreach"]
    get(client, "/api/v1/analytics/refresh/nope", 404)
    assert client.post("/api/v1/analytics/refresh", json={"views": ["payroll"]},
                       headers=csrf_headers(client)).status_code == 400
    stats = get(client, "/api/v1/analytics/queue/stats")
    assert set(stats) == {"scheduled", "running", "recent"} and stats["recent"]


def test_health_and_openapi(viewer):
    health = get(viewer, "/api/v1/analytics/health")
    assert health["database"] == "ok" and {"hits", "misses", "views", "selections"} <= set(health["cache"])
    assert set(health["views"]) == {"pipeline", "compliance", "revenue", "outreach"}
    # The seeded database was refreshed in full and nothing changed since: no lag, empty queues.
    assert set(health["live"]) == set(health["views"])
    for view, live in health["live"].items():
        assert live["as_of"] == health["views"][view] and live["as_of"].endswith("Z")
        assert (live["lag_seconds"], live["queue_depth"]) == (0, 0)
        assert live["last_batch"]["kind"] == "full" and live["last_batch"]["duration_ms"] > 0
        assert {"finished_at", "changes", "groups"} <= set(live["last_batch"])
    doc = get(viewer, "/api/v1/openapi.json")
    assert doc["openapi"].startswith("3.") and "/api/v1/analytics/pipeline" in doc["paths"]


def test_the_live_poll_answers_from_the_data_versions_without_the_database(app, viewer, monkeypatch):
    """An open page polls /api/v1/live every few seconds: no database read, not even for the user."""
    from data.engine import get_engine

    bound = services_of(app.server)
    before = get(viewer, "/api/v1/live")
    assert set(before["versions"]) == {"pipeline", "compliance", "revenue", "outreach"}
    nowhere = get_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setattr(bound, "engine", nowhere)
    monkeypatch.setattr(bound.analytics, "engine", nowhere)
    bound.analytics.data_changed({"revenue": (1,)})
    after = get(viewer, "/api/v1/live?unmasked=1")
    assert after["versions"]["revenue"] == before["versions"]["revenue"] + 1
    assert after["release_seconds"] == 0


def test_the_live_poll_needs_a_session(app):
    anonymous = app.server.test_client()
    assert anonymous.get("/api/v1/live").status_code == 401
