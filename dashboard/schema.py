"""The JSON API's request schema (pydantic) and the OpenAPI document generated from it and the dataset schema.

One truth: `FilterQuery` validates every analytics and export query string, and the OpenAPI parameters are its JSON
schema; each dataset's row schema comes from its columns in data/specs.py. A bad value is a 400 with a message
naming it (`query_error`).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.datastructures import MultiDict

from data.filters import CHANNELS, MAX_MONTH, MIN_MONTH, FilterError
from data.specs import DATASETS, DRILLDOWN, Column, Kind

# Months the API accepts, as a pattern: 2000-01 .. 2099-12 (the range data.filters allows).
MONTH_PATTERN = r"^20\d\d-(0[1-9]|1[0-2])$"
Month = str
Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class FilterQuery(BaseModel):
    """The filters of `GET /api/v1/analytics/<dataset>` and the export routes."""

    model_config = ConfigDict(extra="forbid")

    facility_id: list[Annotated[int, Field(ge=1, le=2_147_483_647, strict=False)]] = Field(
        default_factory=list, description="Repeat for several; none means every facility in scope.")
    start: Month | None = Field(None, pattern=MONTH_PATTERN, description="First month (YYYY-MM, 2000-01 to "
                                "2099-12), inclusive; default 11 months before end.")
    end: Month | None = Field(None, pattern=MONTH_PATTERN, description="Last month (YYYY-MM), inclusive; default "
                              "the current month.")
    channel: Channel | None = Field(None, description="Outreach only.")
    unmasked: Literal["0", "1"] = Field("0", description="Admins only: turn suppression off (audited).")

    @property
    def wants_unmasked(self) -> bool:
        return self.unmasked == "1"


class RefreshBody(BaseModel):
    """The body of `POST /api/v1/analytics/refresh`."""

    model_config = ConfigDict(extra="forbid")

    views: list[Literal["pipeline", "compliance", "revenue", "outreach", "all"]] = Field(
        default_factory=lambda: ["all"], min_length=1)


def parse_query(args: MultiDict, *, allow_unmasked: bool = True) -> FilterQuery:
    """Validate a query string; FilterError (400) names the first bad value."""
    single = {}
    for name in args:
        values = args.getlist(name)
        if name == "facility_id":
            continue
        if len(values) > 1:
            raise FilterError(f"{name} may be given once")
        single[name] = values[0]
    try:
        query = FilterQuery.model_validate({**single, "facility_id": args.getlist("facility_id")})
    except ValidationError as exc:
        raise FilterError(query_error(exc)) from None
    if query.wants_unmasked and not allow_unmasked:
        raise FilterError("unmasked is not available here")
    return query


def query_error(exc: ValidationError) -> str:
    """One line naming the bad parameter and what it accepts."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else "query"
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(FilterQuery.model_fields)
        return f"unknown parameter {name!r}; allowed: {allowed}"
    if name in ("start", "end"):
        return f"{name} must be a month written YYYY-MM between {MIN_MONTH:%Y-%m} and {MAX_MONTH:%Y-%m}, " \
               f"got {error.get('input')!r}"
    if name == "facility_id":
        return f"facility_id must be a positive integer, got {error.get('input')!r}"
    if name == "channel":
        return f"channel must be one of {', '.join(CHANNELS)}, got {error.get('input')!r}"
    if name == "unmasked":
        return f"unmasked must be 1 or 0, got {error.get('input')!r}"
    return f"{name}: {error['msg']}"


def _field_schema(column: Column) -> dict[str, Any]:
    if column.kind is Kind.COUNT:
        kind: dict[str, Any] = {"type": ["integer", "null"], "minimum": 0}
    elif column.kind is Kind.MONEY:
        kind = {"type": ["string", "null"], "pattern": r"^-?\d+\.\d{2}$"}
    elif column.display == "month":
        kind = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
    elif column.kind in (Kind.ATTRIBUTE, Kind.PII, Kind.GRAIN):
        kind = {"type": ["string", "null"]}
    else:
        kind = {"type": ["number", "null"]}
    return {**kind, "description": column.label}


def row_schema(dataset: str) -> dict[str, Any]:
    spec = DATASETS[dataset]
    properties: dict[str, Any] = {"facility_id": {"type": "integer"}, "facility_name": {"type": "string"}}
    for column in spec.fields:
        if column.name != "facility_id":
            properties[column.name] = _field_schema(column)
    if "channel" in spec.columns:
        properties["channel"] = {"type": "string", "enum": list(CHANNELS)}
    properties["suppressed"] = {"type": "array", "items": {"type": "string", "enum": list(spec.value_columns)}}
    return {"type": "object", "properties": properties, "required": list(properties)}


def _parameters(dataset: str | None) -> list[dict[str, Any]]:
    """OpenAPI query parameters from FilterQuery's JSON schema (channel only where it applies)."""
    schema = FilterQuery.model_json_schema()["properties"]
    out = []
    for name, prop in schema.items():
        if name == "channel" and dataset not in ("outreach", "kpis"):
            continue
        if name == "unmasked" and dataset == "violations":
            continue
        description = prop.pop("description", None)
        prop.pop("title", None)
        if "anyOf" in prop:  # Optional[...] -> the non-null branch: an absent parameter is the default
            prop = {**next(p for p in prop["anyOf"] if p.get("type") != "null"), **{k: v for k, v in prop.items()
                                                                                  if k not in ("anyOf", "default")}}
        if name == "facility_id":
            prop = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 2_147_483_647}}
        out.append({"name": name, "in": "query", "required": False, "schema": prop,
                    **({"style": "form", "explode": True} if name == "facility_id" else {}),
                    **({"description": description} if description else {})})
    return out


_ERROR = {"description": "Refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_ERRORS = {str(code): _ERROR for code in (400, 401, 403, 404)}


def _ok(description: str, schema: dict[str, Any] | None = None, mime: str = "application/json") -> dict[str, Any]:
    content = {mime: {"schema": schema}} if schema else {mime: {}}
    return {"description": description, "content": content}


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in DATASETS:
        envelope = {"allOf": [{"$ref": "#/components/schemas/Envelope"},
                              {"type": "object", "properties": {"rows": {"type": "array",
                                                                         "items": row_schema(name)}}}]}
        paths[f"/api/v1/analytics/{name}"] = {"get": {
            "summary": f"{name} KPIs by facility and month, masked", "parameters": _parameters(name),
            "responses": {"200": _ok("Masked rows", envelope), **_ERRORS}}}
        paths[f"/api/v1/export/{name}.csv"] = {"get": {
            "summary": f"{name} rows as CSV (hidden cells read 'suppressed')", "parameters": _parameters(name),
            "responses": {"200": _ok("CSV", mime="text/csv"), **_ERRORS}}}
    paths["/api/v1/analytics/kpis"] = {"get": {
        "summary": "Headline totals of a selection, from published cells only", "parameters": _parameters("kpis"),
        "responses": {"200": _ok("One row with partial and excluded_cells",
                                 {"$ref": "#/components/schemas/Envelope"}), **_ERRORS}}}
    drilldown = {"type": "object", "properties": {c.name: _field_schema(c) for c in DRILLDOWN}}
    paths["/api/v1/analytics/compliance/violations"] = {"get": {
        "summary": "Failed checks with candidate contact details (view_pii: admins, recruiters for their own)",
        "parameters": _parameters("violations"),
        "responses": {"200": _ok("Rows", {"type": "object", "properties": {
            "filters": {"type": "object"}, "rows": {"type": "array", "items": drilldown}}}), **_ERRORS}}}
    paths["/api/v1/analytics/health"] = {"get": {"summary": "Database, cache hits and misses, view freshness",
                                                 "responses": {"200": _ok("Health"), **_ERRORS}}}
    refresh_schema = RefreshBody.model_json_schema()
    refresh_schema.pop("title", None)
    paths["/api/v1/analytics/refresh"] = {"post": {
        "summary": "Queue a refresh (admins)",
        "requestBody": {"required": False, "content": {"application/json": {"schema": refresh_schema}}},
        "responses": {"202": _ok("job_id, status and already_running when a refresh was running"), **_ERRORS}}}
    paths["/api/v1/analytics/refresh/{job_id}"] = {"get": {
        "summary": "Status of a refresh job", "parameters": [{"name": "job_id", "in": "path", "required": True,
                                                             "schema": {"type": "string"}}],
        "responses": {"200": _ok("Job"), **_ERRORS}}}
    paths["/api/v1/analytics/queue/stats"] = {"get": {"summary": "Scheduled, running and recent refreshes",
                                                      "responses": {"200": _ok("Stats"), **_ERRORS}}}
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
