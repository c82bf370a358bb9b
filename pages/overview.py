"""Overview page: headline KPIs across the user's facilities."""

from __future__ import annotations

import dash
from dash import html

from auth.context import current_engine, optional_user_scope
from components.layout import filter_bar
from data.filters import build_filter
from data.queries import facilities


def layout(**_query: str) -> html.Div:
    scope = optional_user_scope()  # None when Dash builds the layout outside a signed-in request
    options = [] if scope is None else [
        (int(r.id), r.name) for r in facilities(current_engine()).itertuples() if r.id in scope.facility_ids
    ]
    period = build_filter()
    return html.Div(
        [html.H1("Overview"), filter_bar("overview", options, None, period.start, period.end)], className="page"
    )


dash.register_page(__name__, path="/", name="Overview", layout=layout)
