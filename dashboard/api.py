"""The JSON API: masked, scoped analytics; refresh jobs; the OpenAPI document.

Routes are thin: validate the query string (dashboard/schema.py), authorize the selection once (auth/selection.py),
ask the analytics service, answer. A dataset's answer for a selection is serialised once per data generation and
served from the cache after that (it holds published cells only, never anything of the caller's). Every refusal is
an exception mapped to its status in dashboard/errors.py.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pandas as pd
from flask import Blueprint, Response, jsonify, request

from auth import audit
from auth.context import client_ip, current_user_scope, services
from auth.errors import AuthError
from auth.selection import Intent, RawFilters, Selection, authorize
from dashboard.schema import RefreshBody, openapi_document, parse_query
from data.contract import EXCLUDED_CELLS, PARTIAL
from data.engine import psycopg_connection
from data.filters import DataFilter, FilterError
from data.jobs import JobStatus, active_jobs, job_status, recent_runs
from data.live import ViewFreshness, freshness
from data.masking import SUPPRESSED
from data.queries import DATASET_NAMES, violations
from data.refresh import RefreshError
from data.specs import DATASETS, DRILLDOWN, Kind

api = Blueprint("api", __name__, url_prefix="/api/v1")
KPI_DATASET = "kpis"
# Rates are shown to the precision that means something: 4 decimals of a fraction (0.01 percentage points).
RATE_DECIMALS = 4


class NotFound(AuthError):
    status = 404


def request_selection(dataset: str, *, intent: Intent = Intent.VIEW, allow_unmasked: bool = True) -> Selection:
    """The query string of this request, validated and authorized (strict: 400/403/404)."""
    query = parse_query(request.args, allow_unmasked=allow_unmasked)
    raw = RawFilters(query.facility_id, query.start, query.end, query.channel)
    return authorize(raw, intent=intent, target=dataset, unmasked=query.wants_unmasked,
                     channel_allowed=dataset in ("outreach", KPI_DATASET))


@api.get("/analytics/<dataset>")
def dataset_rows(dataset: str) -> Response:
    if dataset not in (*DATASET_NAMES, KPI_DATASET):
        raise NotFound(f"unknown dataset {dataset!r}; choose from {', '.join((*DATASET_NAMES, KPI_DATASET))}")
    selection = request_selection(dataset)
    analytics = services().analytics
    body = analytics.remember(("api", dataset), selection.filt,
                              lambda: answer(dataset, selection.filt, unmasked=selection.unmasked),
                              unmasked=selection.unmasked,
                              datasets=DATASET_NAMES if dataset == KPI_DATASET else (dataset,))
    return Response(body, mimetype="application/json")


def answer(dataset: str, filt: DataFilter, *, unmasked: bool = False) -> bytes:
    """The serialised answer for a selection: built from published cells (or, unmasked, for admins only)."""
    analytics = services().analytics
    extra: dict[str, Any] = {}
    if dataset == KPI_DATASET:
        row = analytics.kpis(filt, unmasked=unmasked)
        rows = [kpi_row_json(row)]
        suppressed_cells, as_of = int(row[EXCLUDED_CELLS]), analytics.oldest_as_of()
        extra = {PARTIAL: bool(row[PARTIAL]), EXCLUDED_CELLS: int(row[EXCLUDED_CELLS])}
    else:
        chosen = analytics.select(dataset, filt, unmasked=unmasked)
        rows = rows_as_json(dataset, chosen.frame)
        suppressed_cells, as_of = chosen.suppressed_cells, chosen.as_of
    return orjson.dumps({
        "dataset": dataset, "as_of": iso_utc(as_of), "threshold": analytics.policy.threshold,
        "filters": filters_json(filt), "suppressed_cells": suppressed_cells, **extra, "rows": rows,
    })


@api.get("/analytics/compliance/violations")
def violation_rows() -> Response:
    selection = request_selection("violations", intent=Intent.PII, allow_unmasked=False)
    frame = violations(services().engine, selection.filt)
    names = [c.name for c in DRILLDOWN]
    rows = [{c: _record_json(c, v) for c, v in zip(names, record, strict=True)}
            for record in frame[names].itertuples(index=False, name=None)]
    return jsonify(filters=filters_json(selection.filt), rows=rows)


@api.get("/analytics/health")
def analytics_health() -> Response:
    current_user_scope().require("view")
    analytics = services().analytics
    try:
        with psycopg_connection(analytics.engine) as conn:
            conn.execute("select 1")
        database = "ok"
    except Exception as exc:  # the health answer reports the failure instead of failing itself
        database = f"error: {type(exc).__name__}"
    return jsonify(
        status="ok" if database == "ok" else "degraded",
        database=database,
        cache=analytics.cache.stats(),
        versions=dict(zip(DATASET_NAMES, analytics.cache.versions.current(list(DATASET_NAMES)), strict=True)),
        views={view: iso_utc(at) for view, at in analytics.as_of(unmasked=True).items()},
        live=live_json(freshness(analytics.engine)) if database == "ok" else None,
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
    raw = request.get_json(silent=True) if request.data else {}
    if not isinstance(raw, dict):
        raise FilterError('the body must be a JSON object like {"views": ["pipeline"]}')
    try:
        body = RefreshBody.model_validate(raw)
    except ValueError:
        raise FilterError('"views" must be a non-empty list of pipeline, compliance, revenue, outreach or all'
                          ) from None
    try:
        job, already_running = services().jobs.submit(body.views, trigger="api", user_id=scope.user.id)
    except RefreshError as exc:
        raise FilterError(str(exc)) from None
    audit.record(services().engine, "refresh", user_id=scope.user.id, target=",".join(job.views),
                 details={"job_id": job.job_id, "trigger": "api", "already_running": already_running}, ip=client_ip())
    answer_body: dict[str, Any] = {"job_id": job.job_id, "status": job.status}
    if already_running:
        answer_body["already_running"] = True
    return jsonify(answer_body), 202


@api.get("/analytics/refresh/<job_id>")
def refresh_status(job_id: str) -> Response:
    current_user_scope().require("refresh")
    job = job_status(services().engine, job_id)
    if job is None:
        raise NotFound(f"no refresh job {job_id!r}")
    return jsonify(job_json(job))


@api.get("/analytics/queue/stats")
def queue_stats() -> Response:
    current_user_scope().require("refresh")
    engine, schedule = services().engine, services().scheduler
    recent = [{k: iso_utc(v) if isinstance(v, datetime) else v for k, v in run.items()} for run in recent_runs(engine)]
    return jsonify(scheduled=schedule.jobs() if schedule is not None else [],
                   running=[job_json(j) for j in active_jobs(engine)], recent=recent)


@api.get("/live")
def live_versions() -> Response:
    """The data version of each view as the caller's pages read it (masked: as released), so an open page can tell
    when to fetch new figures. Cheap on purpose: no database, no masker, one Redis read (see LIVE_PATH in
    dashboard/security.py: a signed session cookie is enough, without loading the user)."""
    analytics = services().analytics
    unmasked = request.args.get("unmasked") == "1"
    versions = analytics.versions(DATASET_NAMES, unmasked=unmasked)
    return jsonify(versions=dict(zip(DATASET_NAMES, versions, strict=True)),
                   release_seconds=0 if unmasked else analytics.cache.release_seconds)


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


def rows_as_json(dataset: str, frame: pd.DataFrame) -> list[dict[str, Any]]:
    spec = DATASETS[dataset]
    columns = ["facility_id", "facility_name", *(c for c in spec.columns if c != "facility_id")]
    displays = {c.name: c.display for c in spec.fields}
    kinds = {c.name: c.kind for c in spec.fields}
    out = []
    for record in frame[[*columns, SUPPRESSED]].itertuples(index=False, name=None):
        row = {c: _json_value(v, displays.get(c), kinds.get(c)) for c, v in zip(columns, record[:-1], strict=True)}
        row[SUPPRESSED] = list(record[-1])
        out.append(row)
    return out


def kpi_row_json(row: dict[str, Any]) -> dict[str, Any]:
    """The kpis row: its fields, `suppressed` (fields hidden, never undefined ones) and per-field `details`."""
    details = row.get("details", {})
    values = {k: _json_value(v, "currency" if k == "revenue" else None, Kind.MONEY if k == "revenue" else None)
              for k, v in row.items() if k != "details"}
    hidden = [k for k, d in details.items() if d.get("status") == "suppressed"]
    return {**values, SUPPRESSED: hidden, "details": details}


def rows_as_csv(dataset: str, frame: pd.DataFrame) -> str:
    """CSV with the JSON field names (each once); `suppressed` in hidden cells, empty for undefined ones; rates to
    RATE_DECIMALS decimals, money to the cent."""
    spec = DATASETS[dataset]
    columns = ["facility_id", "facility_name", *(c for c in spec.columns if c != "facility_id")]
    displays = {c.name: c.display for c in spec.fields}
    kinds = {c.name: c.kind for c in spec.fields}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in frame[[*columns, SUPPRESSED]].itertuples(index=False, name=None):
        hidden = set(record[-1])
        writer.writerow([
            SUPPRESSED if c in hidden else _csv_value(_json_value(v, displays.get(c), kinds.get(c)))
            for c, v in zip(columns, record[:-1], strict=True)
        ])
    return buffer.getvalue()


def filters_json(filt: DataFilter) -> dict[str, Any]:
    return {"facility_ids": list(filt.facility_ids or ()), "start": f"{filt.start:%Y-%m}",
            "end": f"{filt.end:%Y-%m}", "channel": filt.channel}


def job_json(job: JobStatus) -> dict[str, Any]:
    return {"job_id": job.job_id, "status": job.status, "views": job.views, "started_at": iso_utc(job.started_at),
            "finished_at": iso_utc(job.finished_at), "duration_ms": job.duration_ms, "error": job.error}


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_value(value: Any, display: str | None, kind: Kind | None) -> Any:
    """Money as a two-decimal string, months as YYYY-MM, rates rounded, NaN/NA as null, numpy as plain."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if display == "month":
        return f"{pd.Timestamp(value):%Y-%m}"
    if kind is Kind.MONEY or isinstance(value, Decimal):
        return f"{Decimal(value).quantize(Decimal('0.01'))}"
    if hasattr(value, "item"):
        value = value.item()
    if display in ("percent", "change") and isinstance(value, float):
        return round(value, RATE_DECIMALS)
    return value


def _record_json(column: str, value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if column == "month":
        return f"{pd.Timestamp(value):%Y-%m}"
    if isinstance(value, datetime):
        return iso_utc(value)
    return _json_value(value, None, None)


def _csv_value(value: Any) -> str:
    return "" if value is None else str(value)
