"""Admin page pieces (refresh buttons, live job status, run history, view freshness, live refresh, audit log) and the
"show unsuppressed figures" switch with its banner. Pure: plain values in, Dash components out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dash import dcc, html

from components.formatting import MISSING, fmt_datetime, is_missing

VIEW_LABELS = {"pipeline": "Pipeline", "compliance": "Compliance", "revenue": "Revenue", "outreach": "Outreach"}
# app.refresh_runs.trigger values as people say them.
TRIGGER_LABELS = {"schedule": "schedule", "button": "button", "api": "API", "cli": "CLI"}
NO_SCHEDULER = "scheduler not running in this process"
UNMASKED_ON = "on"


@dataclass(frozen=True)
class JobView:
    """What the status line needs of a refresh job (data.jobs.JobStatus has these fields)."""

    job_id: str
    status: str
    views: Sequence[str]
    started_at: datetime | None
    duration_ms: int | None
    error: str | None


def fmt_duration(ms: float | None) -> str:
    """85 -> '85 ms', 1234 -> '1.2 s', 95000 -> '1 min 35 s'."""
    if ms is None or is_missing(ms):
        return MISSING
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def job_text(job: JobView, now: datetime) -> str:
    """'Pipeline, Revenue: running for 3.0 s' (queued, running with elapsed time, succeeded with duration,
    failed with the error)."""
    views = ", ".join(VIEW_LABELS.get(v, v) for v in job.views)
    if job.status == "running" and job.started_at is not None:
        elapsed = max((now - job.started_at).total_seconds() * 1000, 0)
        return f"{views}: running for {fmt_duration(elapsed)}"
    if job.status == "succeeded":
        return f"{views}: succeeded in {fmt_duration(job.duration_ms)}"
    if job.status == "failed":
        return f"{views}: failed: {job.error or 'unknown error'}"
    return f"{views}: {job.status}"


def refresh_buttons(prefix: str, views: Sequence[str]) -> html.Div:
    """'Refresh all' and one button per view: ids `<prefix>-all` and `<prefix>-<view>`."""
    buttons = [html.Button("Refresh all", id=f"{prefix}-all", n_clicks=0, className="button button--primary")]
    buttons += [
        html.Button(f"Refresh {VIEW_LABELS.get(v, v).lower()}", id=f"{prefix}-{v}", n_clicks=0, className="button")
        for v in views
    ]
    return html.Div(buttons, className="admin-buttons")


def job_statuses(jobs: Sequence[JobView], now: datetime) -> html.Div:
    """One line per job, newest last; 'No refresh running.' when there is none."""
    if not jobs:
        return html.Div(html.P("No refresh running.", className="admin-idle"), className="admin-jobs")
    return html.Div(
        [
            html.P(job_text(job, now), className=f"admin-job admin-job--{job.status}", **{"data-job": job.job_id})
            for job in jobs
        ],
        className="admin-jobs",
    )


def simple_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, table_id: str, empty: str) -> Any:
    """A small plain table (tens of rows: no grid needed)."""
    if not rows:
        return html.P(empty, className="admin-empty", id=table_id)
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h, scope="col") for h in headers])),
            html.Tbody([html.Tr([html.Td(_text(c)) for c in row]) for row in rows]),
        ],
        className="admin-table",
        id=table_id,
    )


def runs_table(runs: Sequence[Mapping[str, Any]], *, table_id: str) -> Any:
    """The refresh history (rows of data.jobs.recent_runs), newest first."""
    rows = [
        (
            fmt_datetime(r.get("started_at")),
            VIEW_LABELS.get(r["view"], r["view"]),
            TRIGGER_LABELS.get(r["trigger"], r["trigger"]),
            r["status"],
            fmt_duration(r.get("duration_ms")),
            r.get("user_email") or ("scheduler" if r["trigger"] == "schedule" else MISSING),
            r.get("error") or "",
        )
        for r in runs
    ]
    headers = ("Started", "View", "Trigger", "Status", "Duration", "Who", "Error")
    return simple_table(headers, rows, table_id=table_id, empty="No refresh has run yet.")


def views_table(
    last: Mapping[str, datetime | None],
    next_runs: Mapping[str, datetime | None] | None,
    state: Mapping[str, str],
    *,
    table_id: str,
) -> Any:
    """Each view's current state, last successful refresh and next scheduled run (None: no scheduler here)."""
    rows = [
        (
            VIEW_LABELS.get(view, view),
            state.get(view, "idle"),
            fmt_datetime(stamp) if stamp is not None else "never",
            NO_SCHEDULER if next_runs is None else fmt_datetime(next_runs.get(view)),
        )
        for view, stamp in last.items()
    ]
    headers = ("View", "Now", "Last successful refresh", "Next scheduled run")
    return simple_table(headers, rows, table_id=table_id, empty="No views.")


def live_table(views: Mapping[str, Any], *, table_id: str) -> Any:
    """Per view (data.live.ViewFreshness-like: as_of, lag_seconds, queue_depth, last_batch_*): what its store holds,
    the changes waiting and its latest batch or full refresh."""
    rows = [
        (
            VIEW_LABELS.get(view, view),
            fmt_datetime(f.as_of) if f.as_of is not None else "never",
            f"{f.lag_seconds:.1f} s" if f.queue_depth else "none waiting",
            f"{f.queue_depth:,}",
            MISSING if f.last_batch_at is None else (
                f"{fmt_datetime(f.last_batch_at)}: {f.last_batch_kind}, {f.last_batch_changes:,} changes, "
                f"{f.last_batch_groups:,} rows written in {fmt_duration(f.last_batch_ms)}"),
        )
        for view, f in views.items()
    ]
    headers = ("View", "Data as of", "Oldest waiting change", "Changes waiting", "Last batch")
    return simple_table(headers, rows, table_id=table_id, empty="No views.")


def audit_table(entries: Sequence[Any], *, table_id: str) -> Any:
    """Audit entries (auth.audit.AuditEntry-like: at, user_email, action, target, details, ip), newest first."""
    rows = [
        (fmt_datetime(e.at), e.user_email or MISSING, e.action, e.target or "", _details(e.details), e.ip or "")
        for e in entries
    ]
    headers = ("When", "Who", "Action", "Target", "Details", "From")
    return simple_table(headers, rows, table_id=table_id, empty="The audit log is empty.")


def privacy_audit_panel(run: Any | None, *, panel_id: str) -> Any:
    """The last privacy audit (data.privacy_runs.AuditRun-like: at, threshold, ok, duration_ms, datasets)."""
    if run is None:
        return html.P("No privacy audit has run yet. Run `dashboard privacy-audit` on the server (it searches every "
                      "published row for a suppressed count that could be worked out exactly).",
                      className="admin-empty", id=panel_id)
    verdict = (f"Passed: no suppressed count can be worked out exactly (k = {run.threshold})" if run.ok else
               f"FAILED: some suppressed counts can be worked out exactly (k = {run.threshold})")
    rows = [
        (
            VIEW_LABELS.get(d["dataset"], d["dataset"]),
            f"{d['rows_with_hidden_counts']:,} of {d['rows']:,}",
            d["recoverable"] + d["undecided"],
            d["fewest_completions"] if d["fewest_completions"] is not None else MISSING,
            f"{d['cells_hidden_share']:.1%}",
            f"{d['volume_hidden_share']:.2%}",
        )
        for d in run.datasets
    ]
    named = [cell for d in run.datasets for cell in d.get("named", [])]
    headers = ("Dataset", "Rows with hidden counts", "Unsafe cells", "Fewest completions of a row",
               "Cells hidden", "Volume hidden")
    return html.Div(
        [
            html.P(f"{verdict}. Last run {fmt_datetime(run.at)}, {fmt_duration(run.duration_ms)}.",
                   className="admin-verdict" + ("" if run.ok else " admin-verdict--failed")),
            simple_table(headers, rows, table_id=f"{panel_id}-table", empty="No datasets audited."),
            *([html.Ul([html.Li(c) for c in named], className="admin-unsafe")] if named else []),
        ],
        id=panel_id,
    )


def not_allowed(message: str) -> html.Div:
    """The in-app 'not allowed' answer (the server's 403 page says the same for direct loads)."""
    return html.Div(
        [html.H1("Not allowed", className="page-title"), html.P(message, className="empty-state-message"),
         dcc.Link("Back to the overview", href="/")],
        className="page error-page not-allowed",
        role="alert",
        id="not-allowed",
    )


def unmasked_switch(page_id: str, *, allowed: bool) -> Any:
    """The admin's 'show unsuppressed figures' switch, id `<page>-unmasked` (value ['on'] when on).

    Others get the same id with no option, hidden: every page callback takes it as an Input, and Dash refuses
    a callback whose Input is missing; the server ignores it for them either way.
    """
    options = [{"label": " Show unsuppressed figures", "value": UNMASKED_ON}] if allowed else []
    return dcc.Checklist(
        id=f"{page_id}-unmasked",
        options=options,
        value=[],
        className="unmasked-switch",
        inputClassName="unmasked-switch-input",
        style=None if allowed else {"display": "none"},
    )


def unmasked_banner(threshold: int) -> html.Div:
    return html.Div(
        f"Figures are unsuppressed: counts below {threshold} are shown. Admins only; this view is audited.",
        className="unmasked-banner",
        role="alert",
    )


def is_on(value: Any) -> bool:
    """Whether the switch's value asks for unsuppressed figures."""
    if isinstance(value, list | tuple):
        return UNMASKED_ON in value
    return value is True or value == UNMASKED_ON


def _details(details: Any) -> str:
    if not isinstance(details, Mapping) or not details:
        return ""
    return ", ".join(f"{k}={v}" for k, v in details.items())


def _text(value: Any) -> str:
    return MISSING if value is None else str(value)
