"""Pipeline page: hiring funnel with stage conversion, applications and hires, time to fill, per-facility table."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.charts import PAGE_CHARTS
from components.layout import chart_card
from components.tables import PIPELINE_COLUMNS, data_table
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

PAGE, PATH, DATASET = "pipeline", "/pipeline", "pipeline"
TABLE_COLUMNS = tuple(c for c in PIPELINE_COLUMNS if c.field != "month")
CHARTS = PAGE_CHARTS[PAGE]  # the figures, shared with the exports
TITLES = chart_titles(CHARTS)


def body(_scope: Scope) -> list[Any]:
    return [
        *chart_grid(CHARTS),
        chart_card("pipeline-table", "By facility", html.Div(id="pipeline-table")),
    ]


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Pipeline", query, body, dataset=DATASET)


@callback(
    *chart_outputs(CHARTS),
    Output("pipeline-table", "children"),
    Output("pipeline-status", "children"),
    Output("pipeline-freshness", "children"),
    Input("pipeline-facility", "value"),
    Input("pipeline-start", "value"),
    Input("pipeline-end", "value"),
    Input("pipeline-unmasked", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, unmasked: Any = None) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, unmasked=unmasked, page=PAGE)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), None, problem(str(exc)), no_update
    svc, k = ctx.service, ctx.threshold
    frames, figures = ctx.charts(CHARTS)
    by_month, by_facility = frames[0], frames[2]
    return (
        *figures,
        data_table(by_facility, columns=TABLE_COLUMNS, table_id="pipeline-grid", threshold=k),
        None if len(by_month) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Pipeline", title="Pipeline · Recruitment analytics", layout=layout)
