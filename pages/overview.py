"""Overview page: headline KPIs across the user's facilities."""

from __future__ import annotations

import dash
from dash import html


def layout(**_query: str) -> html.Div:
    return html.Div([html.H1("Overview")], className="page")


dash.register_page(__name__, path="/", name="Overview", layout=layout)
