"""Admin page: refresh buttons with live job status, each view's freshness and schedule, run history, audit log.

Only admins get here: the request guard refuses other roles (403 page for a direct load, a "not allowed" page for
in-app navigation) and every callback below checks the permission again, since a callback is its own request.
Status polls every second while something is queued or running and every IDLE_POLL_MS otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
from dash import Input, Output, callback, ctx, dcc, html
from dash.exceptions import PreventUpdate

from auth import audit
from auth.context import client_ip, current_engine, current_user_scope, optional_user_scope, services
from components.admin import (
    audit_table,
    job_statuses,
    live_table,
    not_allowed,
    privacy_audit_panel,
    refresh_buttons,
    runs_table,
    views_table,
)
from components.layout import empty_state
from data.jobs import JobStatus, active_jobs, job_status, recent_runs
from data.live import freshness
from data.privacy_runs import last_run
from data.refresh import VIEWS, RefreshError, last_refreshed
from pages.frame import nav

PAGE, PATH = "admin", "/admin"
BUTTON = "admin-refresh"
BUTTONS = ("all", *VIEWS)
BUSY_POLL_MS, IDLE_POLL_MS = 1000, 10_000
HISTORY, AUDIT_ROWS = 20, 20


def layout(**_query: Any) -> html.Div:
    scope = optional_user_scope()
    if scope is None:
        return html.Div([html.H1("Admin"), empty_state("Sign in to see this page.", hint=None)], className="page")
    if not scope.can("manage_users"):
        return html.Div([nav(scope, PATH, ""), not_allowed("not allowed: this page is for admins")],
                        className="page-root")
    return html.Div(
        [
            html.Div(nav(scope, PATH, ""), id="admin-nav"),
            html.Main(
                [
                    html.Div(html.H1("Admin", className="page-title"), className="page-header"),
                    _card("Refresh data", [
                        refresh_buttons(BUTTON, VIEWS),
                        html.Div(id="admin-message", className="admin-message"),
                        html.Div(id="admin-status", role="status", **{"aria-live": "polite"}),
                    ]),
                    _card("Views", [html.Div(id="admin-views")]),
                    _card("Live refresh", [html.Div(id="admin-live")]),
                    _card(f"Last {HISTORY} refresh runs", [html.Div(id="admin-runs")]),
                    _card("Small-number protection: last privacy audit", [html.Div(id="admin-privacy")]),
                    _card("Recent audit log", [html.Div(id="admin-audit")]),
                ],
                className="page admin-page",
                id="admin-page",
            ),
            dcc.Store(id="admin-job"),
            dcc.Interval(id="admin-interval", interval=BUSY_POLL_MS, n_intervals=0),
        ],
        className="page-root",
    )


@callback(
    Output("admin-job", "data"),
    Output("admin-message", "children"),
    *(Input(f"{BUTTON}-{name}", "n_clicks") for name in BUTTONS),
    prevent_initial_call=True,
)
def press(*clicks: Any) -> tuple[str, str]:
    """Queue the refresh a button asks for (or answer with the job already running it); audited as refresh."""
    scope = current_user_scope()
    scope.require("refresh")
    pressed = ctx.triggered_id
    if not isinstance(pressed, str) or not pressed.startswith(f"{BUTTON}-") or not any(clicks):
        raise PreventUpdate
    name = pressed.removeprefix(f"{BUTTON}-")
    try:
        job, already_running = services().jobs.submit([name], trigger="button", user_id=scope.user.id)
    except RefreshError as exc:
        return dash.no_update, str(exc)
    audit.record(current_engine(), "refresh", user_id=scope.user.id, target=",".join(job.views),
                 details={"job_id": job.job_id, "trigger": "button", "already_running": already_running},
                 ip=client_ip())
    what = "Already running" if already_running else "Started"
    return job.job_id, f"{what}: refresh of {', '.join(job.views)}."


@callback(
    Output("admin-status", "children"),
    Output("admin-views", "children"),
    Output("admin-runs", "children"),
    Output("admin-audit", "children"),
    Output("admin-privacy", "children"),
    Output("admin-interval", "interval"),
    *(Output(f"{BUTTON}-{name}", "disabled") for name in BUTTONS),
    Input("admin-interval", "n_intervals"),
    Input("admin-job", "data"),
)
def poll(_tick: Any, job_id: Any) -> tuple[Any, ...]:
    """Jobs running now (and the one this page started, when done), freshness, history and audit log."""
    current_user_scope().require("manage_users")
    engine = current_engine()
    jobs = active_jobs(engine)
    if isinstance(job_id, str) and all(job.job_id != job_id for job in jobs):
        mine = job_status(engine, job_id)
        jobs += [mine] if mine is not None else []
    busy = _busy_views(jobs)
    return (
        job_statuses(jobs, datetime.now(UTC)),
        views_table(last_refreshed(engine), _next_runs(), busy, table_id="admin-views-table"),
        runs_table(recent_runs(engine, HISTORY), table_id="admin-runs-table"),
        audit_table(audit.list_recent(engine, AUDIT_ROWS), table_id="admin-audit-table"),
        privacy_audit_panel(last_run(engine), panel_id="admin-privacy-audit"),
        BUSY_POLL_MS if busy else IDLE_POLL_MS,
        bool(busy),
        *(view in busy for view in VIEWS),
    )


@callback(Output("admin-live", "children"), Input("admin-interval", "n_intervals"))
def live(_tick: Any) -> Any:
    """Each view's live-refresh freshness: as of, the changes waiting and its latest batch."""
    current_user_scope().require("manage_users")
    return live_table(freshness(current_engine()), table_id="admin-live-table")


def _busy_views(jobs: list[JobStatus]) -> dict[str, str]:
    """view -> queued | running, for the views some job has not finished yet."""
    busy: dict[str, str] = {}
    for job in jobs:
        for run in job.runs:
            if run["status"] in ("queued", "running") and busy.get(run["view"]) != "running":
                busy[run["view"]] = run["status"]
    return busy


def _next_runs() -> dict[str, datetime | None] | None:
    """Each view's next scheduled refresh in this process; None when no scheduler runs here."""
    schedule = services().scheduler
    return schedule.next_runs() if schedule is not None and schedule.running else None


def _card(title: str, children: list[Any]) -> html.Section:
    return html.Section([html.H2(title, className="card-title"), *children], className="card admin-card",
                        **{"aria-label": title})


dash.register_page(__name__, path=PATH, name="Admin", title="Admin · Recruitment analytics", layout=layout)
