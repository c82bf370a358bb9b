"""Layout pieces: navbar, filter bar, freshness banner, empty state and chart card."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html
from dash.development.base_component import Component

from components import theme
from components.formatting import NO_DATA_HINT, NO_DATA_MESSAGE, fmt_datetime, fmt_month, is_missing

APP_NAME = "Recruitment Analytics"
LOGO_SRC = "/assets/logo.svg"
LOGOUT_PATH = "/logout"
FACILITY_PLACEHOLDER = "All facilities in your scope"
CHANNEL_PLACEHOLDER = "All channels"
ROLE_LABELS = {"admin": "Admin", "recruiter": "Recruiter", "viewer": "Viewer"}

MonthLike = str | date | datetime | pd.Timestamp
FacilityOptions = Mapping[int, str] | Sequence[tuple[int, str]] | Sequence[Mapping[str, Any]]

# Dash's page template with the document's language (screen readers pick their voice from it).
INDEX_STRING = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""

GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
}


def navbar(
    user_email: str,
    role: str,
    pages: Sequence[tuple[str, str]],
    *,
    active_path: str | None = None,
    app_name: str = APP_NAME,
    logo_src: str = LOGO_SRC,
    csrf_token: str | None = None,
) -> html.Header:
    """Top bar: logo and app name, page links as (label, path) pairs, the user and role, and Sign out.

    With the session's `csrf_token`, Sign out is a form POST to /logout carrying it (the button's own name and value);
    without, a link to /logout, which shows a sign-out button.
    """
    links = [
        dcc.Link(
            label,
            href=path,
            className="nav-link" + (" nav-link--active" if path == active_path else ""),
        )
        for label, path in pages
    ]
    return html.Header(
        [
            html.A(
                [html.Img(src=logo_src, alt="", className="navbar-logo"), html.Span(app_name)],
                href="/",
                className="navbar-brand",
            ),
            html.Nav(links, className="navbar-links", **{"aria-label": "Pages"}),
            html.Div(
                [
                    html.Span(user_email, className="navbar-user", id="app-user", title=user_email),
                    html.Span(ROLE_LABELS.get(role, role.title()), className=f"role-badge role-badge--{role}"),
                    _sign_out(csrf_token),
                ],
                className="navbar-account",
            ),
        ],
        className="navbar",
        id="app-navbar",
    )


def _sign_out(csrf_token: str | None) -> Component:
    if csrf_token is None:
        # A plain link (not dcc.Link): signing out must reach the server.
        return html.A("Sign out", href=LOGOUT_PATH, className="navbar-signout", id="app-signout")
    button = html.Button("Sign out", type="submit", name="csrf_token", value=csrf_token, className="navbar-signout",
                         id="app-signout")
    return html.Form(button, method="post", action=LOGOUT_PATH, className="navbar-signout-form",
                     id="app-signout-form")


def facility_dropdown_options(facility_options: FacilityOptions) -> list[dict[str, Any]]:
    """Normalise {id: name}, [(id, name)] or [{'label', 'value'}] to sorted dropdown options."""
    if isinstance(facility_options, Mapping):
        pairs = list(facility_options.items())
    else:
        pairs = [
            (item["value"], item["label"]) if isinstance(item, Mapping) else (item[0], item[1])
            for item in facility_options
        ]
    return [{"label": str(name), "value": fid} for fid, name in sorted(pairs, key=lambda p: str(p[1]).lower())]


def month_options(
    start: MonthLike | None,
    end: MonthLike | None,
    months: Sequence[MonthLike] | None = None,
    *,
    span: int = 36,
) -> list[dict[str, str]]:
    """'YYYY-MM' options, newest first: `months`, else the `span` months up to `end` (and `start`)."""
    if months is not None:
        keys = {fmt_month(m) for m in months}
    else:
        anchors = [pd.Period(fmt_month(m), freq="M") for m in (start, end) if m is not None and not is_missing(m)]
        if not anchors:
            return []
        last = max(anchors)
        first = min([*anchors, last - (span - 1)])
        keys = {str(p) for p in pd.period_range(first, last, freq="M")}
    keys |= {fmt_month(m) for m in (start, end) if m is not None and not is_missing(m)}
    return [{"label": key, "value": key} for key in sorted(keys, reverse=True)]


def filter_bar(
    page_id: str,
    facility_options: FacilityOptions,
    selected: Sequence[int] | None,
    start: MonthLike | None,
    end: MonthLike | None,
    channels: Sequence[str] | None = None,
    *,
    channel: str | None = None,
    months: Sequence[MonthLike] | None = None,
    extra: Sequence[Component] = (),
    hint: str | None = None,
) -> html.Div:
    """Facility multi-select, start and end month, and a channel (outreach); `hint` is a line under the bar.

    Ids: `<page>-facility`, `<page>-start`, `<page>-end`, `<page>-channel`; the bar is `<page>-filters`.
    """
    options = month_options(start, end, months)
    fields = [
        _field(
            "Facilities",
            f"{page_id}-facility",
            dcc.Dropdown(
                id=f"{page_id}-facility",
                options=facility_dropdown_options(facility_options),
                value=list(selected or []),
                multi=True,
                searchable=True,
                clearable=True,
                placeholder=FACILITY_PLACEHOLDER,
            ),
            wide=True,
        ),
        _field("From", f"{page_id}-start", _month_dropdown(f"{page_id}-start", options, start)),
        _field("To", f"{page_id}-end", _month_dropdown(f"{page_id}-end", options, end)),
    ]
    if channels is not None:
        fields.append(
            _field(
                "Channel",
                f"{page_id}-channel",
                dcc.Dropdown(
                    id=f"{page_id}-channel",
                    options=[{"label": theme.channel_label(c), "value": c} for c in channels],
                    value=channel,
                    multi=False,
                    searchable=False,
                    clearable=True,
                    placeholder=CHANNEL_PLACEHOLDER,
                ),
            )
        )
    fields.extend(html.Div(item, className="filter") for item in extra)
    bar = html.Div(fields, className="filter-bar", id=f"{page_id}-filters", role="search")
    if not hint:
        return bar
    return html.Div([bar, html.P(hint, className="filter-hint", id=f"{page_id}-filter-hint")])


def notices_banner(notices: Sequence[str]) -> html.Div | None:
    """One banner naming each filter value the page could not use and what it used instead (None when none)."""
    if not notices:
        return None
    return html.Div(
        [html.P("Some filters in the link could not be used:", className="notices-title"),
         html.Ul([html.Li(n) for n in notices])],
        className="notices", role="alert",
    )


def _month_dropdown(component_id: str, options: list[dict[str, str]], value: MonthLike | None) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=component_id,
        options=options,
        value=None if value is None or is_missing(value) else fmt_month(value),
        multi=False,
        searchable=True,
        clearable=False,
        placeholder="YYYY-MM",
    )


def _field(label: str, component_id: str, control: Component, *, wide: bool = False) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=component_id, className="filter-label"), control],
        className="filter" + (" filter--wide" if wide else ""),
    )


def freshness_banner(as_of: datetime | None, *, component_id: str | None = None) -> html.Div:
    """'Data as of 2026-11-29 14:00 UTC', or 'Data not refreshed yet'."""
    missing = as_of is None or is_missing(as_of)
    text = "Data not refreshed yet" if missing else f"Data as of {fmt_datetime(as_of)}"
    extra = {"id": component_id} if component_id else {}
    return html.Div(
        text,
        className="freshness" + (" freshness--missing" if missing else ""),
        role="status",
        **extra,
    )


def empty_state(message: str = NO_DATA_MESSAGE, *, hint: str | None = NO_DATA_HINT) -> html.Div:
    """A friendly block saying there is nothing to show, and what to try."""
    children: list[Any] = [html.P(message, className="empty-state-message")]
    if hint:
        children.append(html.P(hint, className="empty-state-hint"))
    return html.Div(children, className="empty-state", role="status")


def chart_card(
    chart_id: str,
    title: str,
    figure_or_children: go.Figure | Mapping[str, Any] | Component | Sequence[Component],
    *,
    subtitle: str | None = None,
    actions: Sequence[Component] = (),
    definition: str | None = None,
    wide: bool = False,
) -> html.Section:
    """A card holding a chart (or other content) behind a loading indicator, under a visible `title` heading.

    A figure becomes `dcc.Graph(id=chart_id)` with, around it, the slots its page callback fills from the figure
    (components/describe.py): `<id>-subtitle` (the figure's privacy note, as HTML that wraps), `<id>-data` (a
    "Data table" disclosure with every value) and `<id>-summary` (a description for screen readers, the card's
    aria-describedby). Other content gets `subtitle` under the heading. `definition` is what the chart shows,
    behind an "About this chart" disclosure. `wide` spans the whole row of the chart grid.
    """
    is_figure = isinstance(figure_or_children, go.Figure) or (
        isinstance(figure_or_children, Mapping) and "data" in figure_or_children
    )
    heading: list[Any] = [html.H2(title, className="card-title", id=f"{chart_id}-title")]
    after: list[Any] = []
    extra: dict[str, str] = {}
    if is_figure:
        config = {**GRAPH_CONFIG, "toImageButtonOptions": {"format": "png", "filename": chart_id, "scale": 2}}
        content: Any = dcc.Graph(id=chart_id, figure=figure_or_children, config=config, className="chart-graph")
        heading.append(html.P(subtitle, className="card-subtitle", id=f"{chart_id}-subtitle"))
        after = [
            html.Details([html.Summary("Data table", className="data-summary"),
                          html.Div(id=f"{chart_id}-data", className="chart-data-body")],
                         className="chart-data", id=f"{chart_id}-data-toggle"),
            html.P(id=f"{chart_id}-summary", className="visually-hidden"),
        ]
        extra["aria-describedby"] = f"{chart_id}-summary"
    else:
        content = figure_or_children
        if subtitle:
            heading.append(html.P(subtitle, className="card-subtitle"))
    header: list[Any] = [html.Div(heading, className="card-heading")]
    if definition or actions:
        about = [html.Details([html.Summary("About this chart", className="about-summary"),
                               html.P(definition, className="about-text")], className="about-chart",
                              id=f"{chart_id}-about")] if definition else []
        header.append(html.Div([*about, *actions], className="card-actions"))
    children: list[Any] = [html.Div(header, className="card-header")]
    children.append(dcc.Loading(content, type="circle", delay_show=250, color=theme.OKABE_ITO["blue"]))
    children.extend(after)
    return html.Section(
        children,
        className="card chart-card" + (" chart-card--wide" if wide else ""),
        id=f"{chart_id}-card",
        **{"aria-labelledby": f"{chart_id}-title", **extra},
    )


def grid_widths(wide: Sequence[bool]) -> list[bool]:
    """Which cards of a two-column chart grid span the whole row: the wide ones, and the last of the others when
    they are an odd number (a lone card never leaves half a row empty)."""
    spans = list(wide)
    halves = [i for i, w in enumerate(spans) if not w]
    if len(halves) % 2:
        spans[halves[-1]] = True
    return spans


def grid_order(wide: Sequence[bool]) -> list[int]:
    """The order to lay cards out in so half-width ones pair up: each wide card moves after the half-width card
    that follows it when that one would otherwise sit alone beside it (document order stays visual order)."""
    order: list[int] = []
    pending: list[int] = []  # wide cards waiting for the half-width row they interrupt to fill
    open_half = False
    for i, w in enumerate(wide):
        if w and open_half:
            pending.append(i)
            continue
        order.append(i)
        if not w:
            open_half = not open_half
            if not open_half:
                order.extend(pending)
                pending = []
    return order + pending
