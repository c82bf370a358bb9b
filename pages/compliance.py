"""Compliance page: rate by facility, violations by month and severity, score trend, PII drill-down (view_pii)."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html, no_update
from dash.exceptions import PreventUpdate

from auth.context import Scope
from auth.errors import AuthError
from components.charts import PAGE_CHARTS
from components.layout import chart_card
from components.tables import VIOLATION_COLUMNS, data_table
from data.queries import violations
from pages._common import (
    PageError,
    blank_figures,
    chart_grid,
    chart_outputs,
    chart_titles,
    freshness,
    no_data,
    page_context,
    page_frame,
    problem,
    register_url_sync,
)

PAGE, PATH, DATASET = "compliance", "/compliance", "compliance"
# Record-level rows sent to the browser at most: 5,000 rows of PII made a 3.4 MB answer and took half a second.
UI_VIOLATION_ROWS = 500
CHARTS = PAGE_CHARTS[PAGE]  # the figures, shared with the exports
TITLES = chart_titles(CHARTS)


def body(scope: Scope) -> list[Any]:
    cards: list[Any] = chart_grid(CHARTS)
    if scope.can("view_pii"):
        cards.append(
            chart_card(
                "compliance-violations",
                "Failed checks",
                html.Div(id="compliance-violations"),
                subtitle="One row per failed check, with the candidate's contact details",
            )
        )
    return cards


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Compliance", query, body, dataset=DATASET)


@callback(
    *chart_outputs(CHARTS),
    Output("compliance-status", "children"),
    Output("compliance-freshness", "children"),
    Input("compliance-facility", "value"),
    Input("compliance-start", "value"),
    Input("compliance-end", "value"),
    Input("compliance-unmasked", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, unmasked: Any = None) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, unmasked=unmasked, page=PAGE)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), problem(str(exc)), no_update
    svc = ctx.service
    frames, figures = ctx.charts(CHARTS)
    by_month = frames[0]
    return (
        *figures,
        None if len(by_month) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


@callback(
    Output("compliance-violations", "children"),
    Input("compliance-facility", "value"),
    Input("compliance-start", "value"),
    Input("compliance-end", "value"),
)
def update_violations(facility_ids: Any, start: Any, end: Any) -> Any:
    """Record-level failed checks, only for callers with view_pii on every facility asked for."""
    try:
        ctx = page_context(facility_ids, start, end)
        ctx.scope.require("view_pii", ctx.filt.facility_ids)
    except (PageError, AuthError):
        raise PreventUpdate from None
    rows = violations(ctx.service.engine, ctx.filt, limit=UI_VIOLATION_ROWS)
    table = data_table(rows, columns=VIOLATION_COLUMNS, table_id="compliance-violations-grid")
    if len(rows) < UI_VIOLATION_ROWS:
        return table
    note = html.P(f"Showing the newest {UI_VIOLATION_ROWS} failed checks; narrow the facilities or months to see "
                  "older ones, or use the API.", className="table-note")
    return html.Div([note, table])


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Compliance", title="Compliance · Recruitment analytics", layout=layout)
