"""Revenue page: monthly revenue with month-over-month growth, revenue by facility, revenue per placement."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.charts import PAGE_CHARTS
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

PAGE, PATH, DATASET = "revenue", "/revenue", "revenue"
CHARTS = PAGE_CHARTS[PAGE]  # the figures, shared with the exports
TITLES = chart_titles(CHARTS)


def body(_scope: Scope) -> list[Any]:
    return chart_grid(CHARTS)


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Revenue", query, body, dataset=DATASET)


@callback(
    *chart_outputs(CHARTS),
    Output("revenue-status", "children"),
    Output("revenue-freshness", "children"),
    Input("revenue-facility", "value"),
    Input("revenue-start", "value"),
    Input("revenue-end", "value"),
    Input("revenue-unmasked", "value"),
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


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Revenue", title="Revenue · Recruitment analytics", layout=layout)
