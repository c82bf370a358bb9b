"""The OpenAPI 3 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from functools import cache
from typing import Any

from data.filters import CHANNELS
from data.specs import DATASETS, Kind

_FILTERS = [
    {"name": "facility_id", "in": "query", "schema": {"type": "array", "items": {"type": "integer", "minimum": 1}},
     "style": "form", "explode": True, "description": "Repeat for several; none means every facility in scope."},
    {"name": "start", "in": "query", "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
     "description": "First month (YYYY-MM), inclusive; default 11 months before end."},
    {"name": "end", "in": "query", "schema": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
     "description": "Last month (YYYY-MM), inclusive; default the current month."},
]
_CHANNEL = {"name": "channel", "in": "query", "schema": {"type": "string", "enum": list(CHANNELS)}}
_UNMASKED = {"name": "unmasked", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]},
             "description": "Admins only: turn suppression off (audited)."}
_ERROR = {"description": "Refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_VIEW_NAMES = ["pipeline", "compliance", "revenue", "outreach", "all"]
_ERRORS = {str(code): _ERROR for code in (400, 401, 403, 404)}


def _field_schema(kind: Kind) -> dict[str, Any]:
    if kind is Kind.COUNT:
        return {"type": ["integer", "null"]}
    if kind is Kind.MONEY:
        return {"type": ["string", "null"], "pattern": r"^-?\d+\.\d{2}$"}
    return {"type": ["number", "null"]}


def _row_schema(name: str) -> dict[str, Any]:
    spec = DATASETS[name]
    properties: dict[str, Any] = {
        "facility_id": {"type": "integer"}, "facility_name": {"type": "string"},
        "month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
        "suppressed": {"type": "array", "items": {"type": "string"}},
    }
    if "channel" in spec.columns:
        properties["channel"] = {"type": "string", "enum": list(CHANNELS)}
    for column in spec.value_columns:
        properties[column] = _field_schema(spec.column(column).kind)
    return {"type": "object", "properties": properties}


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in ("pipeline", "compliance", "revenue", "outreach"):
        params = [*_FILTERS, *([_CHANNEL] if name == "outreach" else []), _UNMASKED]
        paths[f"/api/v1/analytics/{name}"] = {"get": {
            "summary": f"{name} KPIs by facility and month, masked", "parameters": params,
            "responses": {"200": {"description": "Masked rows", "content": {"application/json": {"schema": {
                "allOf": [{"$ref": "#/components/schemas/Envelope"},
                          {"properties": {"rows": {"type": "array", "items": _row_schema(name)}}}]}}}}, **_ERRORS}}}
        paths[f"/api/v1/export/{name}.csv"] = {"get": {
            "summary": f"{name} rows as CSV (hidden cells read 'suppressed')", "parameters": params,
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {}}}, **_ERRORS}}}
    paths["/api/v1/analytics/kpis"] = {"get": {
        "summary": "Headline totals of a selection, from published cells only",
        "parameters": [*_FILTERS, _CHANNEL, _UNMASKED],
        "responses": {"200": {"description": "One row with partial and excluded_cells"}, **_ERRORS}}}
    paths["/api/v1/analytics/compliance/violations"] = {"get": {
        "summary": "Failed checks with candidate contact details (view_pii: admins, recruiters for their own)",
        "parameters": _FILTERS, "responses": {"200": {"description": "Rows"}, **_ERRORS}}}
    paths["/api/v1/analytics/health"] = {"get": {
        "summary": "Database, cache hits and misses, view freshness, live refresh lag and queues",
        "responses": {"200": {"description": "Health"}}}}
    paths["/api/v1/analytics/refresh"] = {"post": {
        "summary": "Queue a refresh (admins)",
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "views": {"type": "array", "items": {"type": "string", "enum": _VIEW_NAMES}}}}}}},
        "responses": {"202": {"description": "job_id, status and already_running when a refresh was running"},
                      **_ERRORS}}}
    paths["/api/v1/analytics/refresh/{job_id}"] = {"get": {
        "summary": "Status of a refresh job", "parameters": [{"name": "job_id", "in": "path", "required": True,
                                                             "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Job"}, **_ERRORS}}}
    paths["/api/v1/analytics/queue/stats"] = {"get": {"summary": "Scheduled, running and recent refreshes",
                                                      "responses": {"200": {"description": "Stats"}, **_ERRORS}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Recruitment analytics API", "version": "1.0.0",
                 "description": "Masked (small-cell suppressed), facility-scoped KPI data. Authenticate with the "
                                "session cookie from /login or 'Authorization: Bearer <token>'."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "session": {"type": "apiKey", "in": "cookie", "name": "session"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Envelope": {"type": "object", "properties": {
                    "dataset": {"type": "string"}, "as_of": {"type": ["string", "null"], "format": "date-time"},
                    "threshold": {"type": "integer"}, "suppressed_cells": {"type": "integer"},
                    "filters": {"type": "object"}, "rows": {"type": "array"}}},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }
