"""components/admin.py: status words, durations, tables and the unsuppressed-figures switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from components.admin import (
    NO_SCHEDULER,
    JobView,
    fmt_duration,
    is_on,
    job_text,
    live_table,
    privacy_audit_panel,
    runs_table,
    unmasked_switch,
    views_table,
)
from data.privacy_runs import AuditRun

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def job(status: str, **extra) -> JobView:
    base = {"job_id": "j1", "views": ["pipeline", "revenue"], "started_at": NOW - timedelta(seconds=3),
            "duration_ms": None, "error": None}
    return JobView(status=status, **{**base, **extra})


def test_job_text_uses_the_status_words() -> None:
    assert job_text(job("queued"), NOW) == "Pipeline, Revenue: queued"
    assert job_text(job("running"), NOW) == "Pipeline, Revenue: running for 3.0 s"
    assert job_text(job("succeeded", duration_ms=1234), NOW) == "Pipeline, Revenue: succeeded in 1.2 s"
    assert job_text(job("failed", error="revenue: canceling statement due to statement timeout"), NOW) == (
        "Pipeline, Revenue: failed: revenue: canceling statement due to statement timeout")


def test_fmt_duration() -> None:
    assert [fmt_duration(v) for v in (None, 85, 1234, 95_000)] == ["—", "85 ms", "1.2 s", "1 min 35 s"]


def test_runs_table_names_trigger_and_who() -> None:
    rows = [{"started_at": NOW, "view": "revenue", "trigger": "api", "status": "failed", "duration_ms": 40,
             "user_email": "a@x.example", "error": "boom"},
            {"started_at": NOW, "view": "pipeline", "trigger": "schedule", "status": "skipped", "duration_ms": None,
             "user_email": None, "error": None}]
    table = runs_table(rows, table_id="t").to_plotly_json()
    body = table["props"]["children"][1].children
    cells = [[td.children for td in tr.children] for tr in body]
    assert cells[0] == ["2026-06-15 12:00 UTC", "Revenue", "API", "failed", "40 ms", "a@x.example", "boom"]
    assert cells[1][2] == "schedule" and cells[1][5] == "scheduler"
    assert runs_table([], table_id="t").children == "No refresh has run yet."


def test_views_table_without_scheduler() -> None:
    table = views_table({"pipeline": NOW, "revenue": None}, None, {"pipeline": "running"}, table_id="v")
    cells = [[td.children for td in tr.children] for tr in table.children[1].children]
    assert cells == [["Pipeline", "running", "2026-06-15 12:00 UTC", NO_SCHEDULER],
                     ["Revenue", "idle", "never", NO_SCHEDULER]]


def test_switch_is_offered_to_admins_only() -> None:
    assert unmasked_switch("pipeline", allowed=True).options
    hidden = unmasked_switch("pipeline", allowed=False)
    assert hidden.options == [] and hidden.style == {"display": "none"} and hidden.id == "pipeline-unmasked"
    assert is_on(["on"]) and not is_on([]) and not is_on(None) and not is_on("off")


def flat_text(component) -> str:
    if isinstance(component, str | int):
        return str(component)
    children = getattr(component, "children", None)
    if children is None:
        return ""
    parts = children if isinstance(children, list | tuple) else [children]
    return " ".join(flat_text(c) for c in parts)


def test_privacy_audit_panel_before_any_run_and_after_a_failed_one() -> None:
    assert "No privacy audit has run yet" in flat_text(privacy_audit_panel(None, panel_id="p"))

    run = AuditRun(NOW, 5, False, 1234, [{
        "dataset": "compliance", "rows": 955, "rows_with_hidden_counts": 857, "hidden_counts": 3024,
        "recoverable": 2, "undecided": 0, "named": ["compliance facility_id=1 month=2026-03 violations_high"],
        "fewest_completions": 1, "cells_hidden_share": 0.373, "volume_hidden_share": 0.0491, "seconds": 1.2}])
    text = flat_text(privacy_audit_panel(run, panel_id="p"))
    assert "FAILED: some suppressed counts can be worked out exactly (k = 5)" in text
    assert "857 of 955" in text and "37.3%" in text and "4.91%" in text
    assert "compliance facility_id=1 month=2026-03 violations_high" in text
def test_live_table_per_view() -> None:
    from types import SimpleNamespace

    idle = SimpleNamespace(as_of=NOW, lag_seconds=0.0, queue_depth=0, last_batch_at=NOW, last_batch_kind="incremental",
                           last_batch_changes=12, last_batch_groups=9, last_batch_ms=3.4)
    behind = SimpleNamespace(as_of=None, lag_seconds=75.25, queue_depth=1500, last_batch_at=None, last_batch_kind=None,
                             last_batch_changes=None, last_batch_groups=None, last_batch_ms=None)
    table = live_table({"pipeline": idle, "revenue": behind}, table_id="t").to_plotly_json()
    cells = [[td.children for td in tr.children] for tr in table["props"]["children"][1].children]
    assert cells[0] == ["Pipeline", "2026-06-15 12:00 UTC", "none waiting", "0",
                        "2026-06-15 12:00 UTC: incremental, 12 changes, 9 rows written in 3 ms"]
    assert cells[1] == ["Revenue", "never", "75.2 s", "1,500", "—"]
