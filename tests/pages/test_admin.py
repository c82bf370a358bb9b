"""The admin page's callbacks and the admin "show unsuppressed figures" switch, through `/_dash-update-component`.

Refreshes run against a small database of the test's own; a test holds a lock
on a table the view reads, so a job stays running for exactly as long as the test wants.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from auth.audit import list_recent
from auth.context import services_of

from ..conftest import OwnDatabase
from .conftest import DashCaller, filters
from .test_callbacks import all_ids, filt_for, find, text_of

PASSWORD = OwnDatabase.password
POLL = {"admin-interval.n_intervals": 1}


def poll_until(dash_call: DashCaller, job_id: str, words: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        out = dash_call("admin-status", {**POLL, "admin-job.data": job_id})
        if words in text_of(out["admin-status"]) or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def test_button_starts_a_job_and_a_second_press_returns_it(own_db: OwnDatabase, dash_call: DashCaller, auth) -> None:
    admin = own_db.user("admin")
    auth.login(admin.email, PASSWORD)
    generation = own_db.service.cache.versions.current(["pipeline"])
    with own_db.table_locked("recruiting.applications"):
        pressed = dash_call("admin-job", {"admin-refresh-pipeline.n_clicks": 1})
        job_id = pressed["admin-job"]
        assert pressed["admin-message"] == "Started: refresh of pipeline."

        out = poll_until(dash_call, job_id, "running for")
        assert "Pipeline: running for" in text_of(out["admin-status"])
        assert out["admin-refresh-pipeline"] is True and out["admin-refresh-all"] is True
        assert out["admin-refresh-revenue"] is False
        assert out["admin-interval"] == 1000
        assert "running" in text_of(find(out["admin-views"], "admin-views-table"))

        again = dash_call("admin-job", {"admin-refresh-all.n_clicks": 1})
        assert again["admin-job"] == job_id
        assert again["admin-message"] == "Already running: refresh of pipeline."

    out = poll_until(dash_call, job_id, "succeeded in")
    assert "Pipeline: succeeded in" in text_of(out["admin-status"])
    assert out["admin-refresh-pipeline"] is False and out["admin-interval"] == 10_000
    assert own_db.service.cache.versions.current(["pipeline"]) != generation, "a refresh bumps the data version"

    history = find(out["admin-runs"], "admin-runs-table")
    rows = [[text_of(cell) for cell in row["props"]["children"]] for row in history["props"]["children"][1]
            ["props"]["children"]]
    assert rows[0][1:4] == ["Pipeline", "button", "succeeded"] and rows[0][5] == admin.email
    assert "scheduler not running in this process" in text_of(out["admin-views"])

    audited = list_recent(own_db.engine, 10, action="refresh")
    assert [e.details["already_running"] for e in audited] == [True, False]
    assert {e.user_id for e in audited} == {admin.id} and audited[0].target == "pipeline"
    assert "refresh" in text_of(out["admin-audit"])
    assert "No privacy audit has run yet" in text_of(out["admin-privacy"])


def test_failed_refresh_shows_the_error(own_db: OwnDatabase, dash_call: DashCaller, auth) -> None:
    admin = own_db.user("admin")
    auth.login(admin.email, PASSWORD)
    with psycopg.connect(own_db.url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("alter function analytics.refresh_revenue_kpis() rename to refresh_revenue_kpis_gone")
    job_id = dash_call("admin-job", {"admin-refresh-revenue.n_clicks": 1})["admin-job"]
    out = poll_until(dash_call, job_id, "failed")
    assert "Revenue: failed: revenue:" in text_of(out["admin-status"])
    assert "does not exist" in text_of(out["admin-status"])


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_non_admins_are_refused(own_db: OwnDatabase, dash_call: DashCaller, client, auth, role: str) -> None:
    user = own_db.user(role)
    auth.login(user.email, PASSWORD)
    assert dash_call.response("admin-job", {"admin-refresh-all.n_clicks": 1}).status_code == 403
    assert dash_call.response("admin-status", {**POLL, "admin-job.data": None}).status_code == 403
    assert list_recent(own_db.engine, 10, action="refresh") == []
    page = client.get("/admin", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "not allowed" in page.get_data(as_text=True).lower()
    routed = dash_call("_pages_content", {"_pages_location.pathname": "/admin", "_pages_location.search": ""})
    assert "not allowed" in text_of(routed["_pages_content"]).lower()
    assert find(routed["_pages_content"], "admin-page") is None


def test_admin_link_only_for_admins(own_db: OwnDatabase, dash_call: DashCaller, auth) -> None:
    for role, linked in (("viewer", False), ("admin", True)):
        user = own_db.user(role)
        auth.login(user.email, PASSWORD)
        page = dash_call("_pages_content", {"_pages_location.pathname": "/", "_pages_location.search": ""})
        assert ('"/admin"' in str(page["_pages_content"]).replace("'", '"')) is linked
        assert (find(page["_pages_content"], "overview-unmasked")["props"]["options"] != []) is linked
        auth.logout()


# The switch, on the shared seeded database (reads and audit rows only).

@pytest.fixture
def signed_in(make_user: Callable, auth: Any) -> Callable[[str], Any]:
    def login(role: str) -> Any:
        user, password = make_user(role)
        assert auth.login(user.email, password).status_code == 302
        return user

    return login


def violations_shown(out: dict[str, Any]) -> list[float | None]:
    """The critical layer of the severity stack, merged over its full and dotted traces."""
    layer = [t for t in out["compliance-violations-by-month"]["data"] if t.get("name") == "Critical"]
    return [next((t["y"][i] for t in layer if t["y"][i] is not None), None) for i in range(len(layer[0]["y"]))]


def published(series: Any) -> list[float | None]:
    return [None if v is None or v != v else float(v) for v in series]


def test_admin_switch_shows_unsuppressed_figures_and_is_audited(
    app: Any, dash_call: DashCaller, signed_in: Callable
) -> None:
    service = services_of(app.server).analytics
    filt = filt_for(all_ids(service))
    masked_totals = service.aggregate("compliance", filt, ["month"])
    masked = [v if s != "suppressed" else None for v, s in zip(
        published(masked_totals["violations_critical"]), masked_totals["violations_critical__status"], strict=True)]
    unmasked = published(service.aggregate("compliance", filt, ["month"], unmasked=True)["violations_critical"])
    assert masked != unmasked, "the seeded data has suppressed critical-violation cells"
    admin = signed_in("admin")

    assert violations_shown(dash_call("compliance-by-facility", filters("compliance"))) == masked
    assert admin.id not in {e.user_id for e in list_recent(service.engine, 50, action="unmasked_view")}

    out = dash_call("compliance-by-facility", filters("compliance", unmasked=["on"]))
    assert violations_shown(out) == unmasked
    entry = list_recent(service.engine, 1, action="unmasked_view")[0]
    assert (entry.user_id, entry.target) == (admin.id, "compliance")
    assert entry.details["facility_ids"] == list(all_ids(service))
    banner = dash_call("compliance-unmasked-banner", {"compliance-unmasked": ["on"]})
    assert "unsuppressed" in text_of(banner["compliance-unmasked-banner"])


def test_viewer_crafting_the_switch_gets_masked_or_nothing(
    app: Any, dash_call: DashCaller, signed_in: Callable
) -> None:
    service = services_of(app.server).analytics
    viewer = signed_in("viewer")
    out = dash_call("compliance-by-facility", filters("compliance", unmasked=["on"]))
    assert "Only admins can turn small-number protection off" in text_of(out["compliance-notices"])
    masked = dash_call("compliance-by-facility", filters("compliance"))
    assert out["compliance-violations-by-month"] == masked["compliance-violations-by-month"]
    assert viewer.id not in {e.user_id for e in list_recent(service.engine, 50, action="unmasked_view")}
    assert dash_call("compliance-unmasked-banner", {"compliance-unmasked": ["on"]})["compliance-unmasked-banner"] \
        is None


def test_live_refresh_card_shows_waiting_changes_and_the_last_batch(own_db: OwnDatabase, dash_call: DashCaller,
                                                                      auth) -> None:
    from data.live import apply_changes

    admin = own_db.user("admin")
    auth.login(admin.email, PASSWORD)
    with psycopg.connect(own_db.url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " values (1, 'sms', now()), (1, 'email', now())")
    waiting = text_of(find(dash_call("admin-live", POLL)["admin-live"], "admin-live-table"))
    assert "Pipeline" in waiting and "never" in waiting and " s" in waiting
    apply_changes(own_db.engine, ["pipeline"])
    done = text_of(find(dash_call("admin-live", POLL)["admin-live"], "admin-live-table"))
    assert "incremental, 1 changes, 1 rows written in" in done and "none waiting" in done


def test_live_refresh_card_is_for_admins(own_db: OwnDatabase, dash_call: DashCaller, auth) -> None:
    viewer = own_db.user("viewer")
    auth.login(viewer.email, PASSWORD)
    assert dash_call.response("admin-live", POLL).status_code == 403
