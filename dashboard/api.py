"""The JSON API (DESIGN.md §7): masked, scoped analytics; refresh jobs; CSV exports; the OpenAPI document.

Routes are thin: parse the query string, ask auth/ for the scope, ask the analytics service for masked rows, turn
them into JSON. Every refusal is an exception mapped to its status in dashboard/errors.py.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from flask import Blueprint, Response, jsonify, request

from auth import audit
from auth.context import client_ip, current_user_scope
from auth.errors import AuthError
from dashboard.extensions import analytics, refresh_jobs, scheduler
from dashboard.openapi import openapi_document
from dashboard.scheduler import scheduled_jobs
from data.engine import psycopg_connection
from data.filters import DataFilter, FilterError, build_filter
from data.jobs import active_jobs, job_status, recent_runs
from data.live import ViewFreshness, freshness
from data.masking import SUPPRESSED
from data.queries import DATASET_NAMES, VIOLATION_COLUMNS, violations
from data.refresh import RefreshError
from data.specs import DATASETS, Kind

api = Blueprint("api", __name__, url_prefix="/api/v1")
FILTER_PARAMS = frozenset({"facility_id", "start", "end", "channel", "unmasked"})
KPI_DATASET = "kpis"


class NotFound(AuthError):
    status = 404


def parse_request_filter(dataset: str, *, allow_unmasked: bool = True) -> tuple[DataFilter, bool]:
    """Validate the query string and resolve the caller's facilities; returns (filter, unmasked)."""
    unknown = sorted(set(request.args) - FILTER_PARAMS)
    if unknown:
        raise FilterError(f"unknown parameter(s): {', '.join(unknown)}; allowed: {', '.join(sorted(FILTER_PARAMS))}")
    for name in ("start", "end", "channel", "unmasked"):
        if len(request.args.getlist(name)) > 1:
            raise FilterError(f"{name} may be given once")
    channel = request.args.get("channel")
    if channel is not None and dataset not in ("outreach", KPI_DATASET):
        raise FilterError("channel applies to the outreach dataset only")
    unmasked = _parse_flag(request.args.get("unmasked"))
    filt = build_filter(request.args.getlist("facility_id") or None, request.args.get("start"),
                        request.args.get("end"), channel)
    scope = current_user_scope()
    scope.require("view")
    if unmasked:
        if not allow_unmasked:
            raise FilterError("unmasked is not available here")
        scope.require("view_unmasked")
    resolved = DataFilter(scope.resolve(filt.facility_ids), filt.start, filt.end, filt.channel)
    if unmasked:
        audit.record(analytics().engine, "unmasked_view", user_id=scope.user.id, target=dataset,
                     details={"facility_ids": list(resolved.facility_ids), "start": _month(resolved.start),
                              "end": _month(resolved.end)}, ip=client_ip())
    return resolved, unmasked


def _parse_flag(raw: str | None) -> bool:
    if raw is None or raw.lower() in ("0", "false", "no"):
        return False
    if raw.lower() in ("1", "true", "yes"):
        return True
    raise FilterError(f"unmasked must be 1 or 0, got {raw!r}")


@api.get("/analytics/<dataset>")
def dataset_rows(dataset: str) -> Response:
    if dataset not in (*DATASET_NAMES, KPI_DATASET):
        raise NotFound(f"unknown dataset {dataset!r}; choose from {', '.join((*DATASET_NAMES, KPI_DATASET))}")
    filt, unmasked = parse_request_filter(dataset)
    service = analytics()
    if dataset == KPI_DATASET:
        row = service.kpis(filt, unmasked=unmasked)
        hidden = [k for k, v in row.items() if v is None and row["partial"]]
        body_rows = [{**{k: _json_value(k, v, None) for k, v in row.items()}, SUPPRESSED: hidden}]
        suppressed_cells, as_of = int(row["excluded_cells"]), service.oldest_as_of()
    else:
        selection = service.select(dataset, filt, unmasked=unmasked)
        body_rows = rows_as_json(dataset, selection.frame)
        suppressed_cells, as_of = selection.suppressed_cells, selection.as_of
    return jsonify(
        dataset=dataset,
        as_of=iso_utc(as_of),
        threshold=service.policy.threshold,
        filters=filters_json(filt),
        suppressed_cells=suppressed_cells,
        rows=body_rows,
    )


@api.get("/analytics/compliance/violations")
def violation_rows() -> Response:
    filt, _ = parse_request_filter("violations", allow_unmasked=False)
    scope = current_user_scope()
    scope.require("view_pii", filt.facility_ids)
    frame = violations(analytics().engine, filt)
    rows = [
        {c: _plain_json(c, v) for c, v in zip(VIOLATION_COLUMNS, record, strict=True)}
        for record in frame.itertuples(index=False, name=None)
    ]
    return jsonify(filters=filters_json(filt), rows=rows)


@api.get("/analytics/health")
def analytics_health() -> Response:
    current_user_scope().require("view")
    service = analytics()
    try:
        with psycopg_connection(service.engine) as conn:
            conn.execute("select 1")
        database = "ok"
    except Exception as exc:  # the health answer reports the failure instead of failing itself
        database = f"error: {type(exc).__name__}"
    return jsonify(
        status="ok" if database == "ok" else "degraded",
        database=database,
        cache=service.cache.stats(),
        views={view: iso_utc(at) for view, at in service.as_of().items()},
        live=live_json(freshness(service.engine)) if database == "ok" else None,
    )


def live_json(views: dict[str, ViewFreshness]) -> dict[str, Any]:
    """Per view: as of, lag (age of the oldest change not applied yet, s), queue depth and the latest batch."""
    return {
        view: {
            "as_of": iso_utc(f.as_of),
            "lag_seconds": round(f.lag_seconds, 3),
            "queue_depth": f.queue_depth,
            "last_batch": None if f.last_batch_at is None else {
                "finished_at": iso_utc(f.last_batch_at), "kind": f.last_batch_kind, "changes": f.last_batch_changes,
                "groups": f.last_batch_groups, "duration_ms": round(f.last_batch_ms, 3),
            },
        }
        for view, f in views.items()
    }


@api.post("/analytics/refresh")
def start_refresh() -> tuple[Response, int]:
    scope = current_user_scope()
    scope.require("refresh")
    body = request.get_json(silent=True) if request.data else {}
    if not isinstance(body, dict):
        raise FilterError('the body must be a JSON object like {"views": ["pipeline"]}')
    views = body.get("views", ["all"])
    if not isinstance(views, list) or not all(isinstance(v, str) for v in views) or not views:
        raise FilterError('"views" must be a non-empty list of view names or ["all"]')
    try:
        job, already_running = refresh_jobs().submit(views, trigger="api", user_id=scope.user.id)
    except RefreshError as exc:
        raise FilterError(str(exc)) from None
    audit.record(analytics().engine, "refresh", user_id=scope.user.id, target=",".join(job.views),
                 details={"job_id": job.job_id, "trigger": "api", "already_running": already_running}, ip=client_ip())
    answer: dict[str, Any] = {"job_id": job.job_id, "status": job.status}
    if already_running:
        answer["already_running"] = True
    return jsonify(answer), 202


@api.get("/analytics/refresh/<job_id>")
def refresh_status(job_id: str) -> Response:
    current_user_scope().require("refresh")
    job = job_status(analytics().engine, job_id)
    if job is None:
        raise NotFound(f"no refresh job {job_id!r}")
    return jsonify(job_json(job))


@api.get("/analytics/queue/stats")
def queue_stats() -> Response:
    current_user_scope().require("refresh")
    engine = analytics().engine
    recent = [{k: iso_utc(v) if isinstance(v, datetime) else v for k, v in run.items()} for run in recent_runs(engine)]
    return jsonify(scheduled=scheduled_jobs(scheduler()), running=[job_json(j) for j in active_jobs(engine)],
                   recent=recent)


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


def rows_as_json(dataset: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    spec = DATASETS[dataset]
    columns = ["facility_id", "facility_name", *spec.columns]
    out = []
    for record in frame[[*columns, SUPPRESSED]].itertuples(index=False, name=None):
        row = {c: _json_value(c, v, spec) for c, v in zip(columns, record[:-1], strict=True)}
        row[SUPPRESSED] = list(record[-1])
        out.append(row)
    return out


def rows_as_csv(dataset: str, frame: pd.DataFrame) -> str:
    """CSV with the JSON field names; `suppressed` in hidden cells, empty for undefined ones."""
    spec = DATASETS[dataset]
    columns = ["facility_id", "facility_name", *spec.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in frame[[*columns, SUPPRESSED]].itertuples(index=False, name=None):
        hidden = set(record[-1])
        writer.writerow([
            SUPPRESSED if c in hidden else _csv_value(_json_value(c, v, spec))
            for c, v in zip(columns, record[:-1], strict=True)
        ])
    return buffer.getvalue()


def filters_json(filt: DataFilter) -> dict[str, Any]:
    return {"facility_ids": list(filt.facility_ids or ()), "start": _month(filt.start), "end": _month(filt.end),
            "channel": filt.channel}


def job_json(job) -> dict[str, Any]:
    return {"job_id": job.job_id, "status": job.status, "views": job.views, "started_at": iso_utc(job.started_at),
            "finished_at": iso_utc(job.finished_at), "duration_ms": job.duration_ms, "error": job.error}


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(value: date) -> str:
    return f"{value:%Y-%m}"


def _json_value(column: str, value: Any, spec) -> Any:
    """Money as a two-decimal string, months as YYYY-MM, NaN/NA as null, numpy scalars as plain numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if column == "month":
        return f"{pd.Timestamp(value):%Y-%m}"
    if isinstance(value, Decimal) or (spec is not None and column in spec.columns
                                      and spec.column(column).kind is Kind.MONEY):
        return f"{Decimal(value).quantize(Decimal('0.01'))}"
    if hasattr(value, "item"):
        return value.item()
    return value


def _plain_json(column: str, value: Any) -> Any:
    if isinstance(value, datetime) and column != "month":
        return iso_utc(value)
    return _json_value(column, value, None)


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)

