"""What every page shares: the filter state in the URL, scope resolution, the page frame and the URL sync.

Filters live in the query string with the API's names: `facility_id` (repeated), `start`, `end`
and `channel`. A page's layout reads them; a filter change writes them back with `history.replaceState` (so
the page is not re-rendered by the router) and rewrites the navbar links, so the view survives a copied link
and moving between pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, callback, clientside_callback, dcc, html
from dash.development.base_component import Component
from flask import current_app

from auth import audit
from auth.context import Scope, client_ip, current_engine, optional_user_scope
from auth.errors import AuthError
from components.admin import is_on, unmasked_banner, unmasked_switch
from components.charts import PageCharts
from components.export_menu import export_menu, report_button
from components.figures import empty_figure
from components.formatting import NO_DATA_HINT, NO_DATA_MESSAGE
from components.layout import chart_card, empty_state, filter_bar, freshness_banner, navbar
from data.filters import (
    CHANNELS,
    DataFilter,
    FilterError,
    add_months,
    build_filter,
    current_month,
    parse_month,
)
from data.service import AnalyticsService

ANALYTICS_KEY = "recruit.analytics"
PAGES: tuple[tuple[str, str], ...] = (
    ("Overview", "/"),
    ("Pipeline", "/pipeline"),
    ("Compliance", "/compliance"),
    ("Revenue", "/revenue"),
    ("Outreach", "/outreach"),
)
ADMIN_LINK = ("Admin", "/admin")  # admins only; the admin page has no filters to carry
MONTH_SPAN = 36  # months offered in the month pickers, ending at the later of this month and the chosen end

# Writes the query string into the address bar without notifying dcc.Location (which would re-render the page).
_REPLACE_URL_JS = """
function(search) {
    if (typeof search !== "string") { return window.dash_clientside.no_update; }
    if (window.location.search !== search) {
        window.history.replaceState(window.history.state, "", window.location.pathname + search);
    }
    return window.dash_clientside.no_update;
}
"""


class PageError(Exception):
    """A filter the page cannot show (malformed, or outside the caller's scope); the message is safe to show."""


@dataclass(frozen=True)
class PageContext:
    """A signed-in caller's scope, the analytics service and a filter whose facilities are explicit."""

    scope: Scope
    service: AnalyticsService
    filt: DataFilter
    unmasked: bool = False  # an admin asked for unsuppressed figures (already audited)

    @property
    def threshold(self) -> int:
        return self.service.policy.threshold

    def charts(self, charts: PageCharts) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
        """The page's totals and its figures as plotly JSON, both cached per selection (never per user)."""
        frames = self.service.aggregates(charts.dataset, self.filt, charts.groupings, unmasked=self.unmasked)

        def build() -> list[dict[str, Any]]:
            return [figure.to_plotly_json() for figure in charts.figures(frames, self.threshold).values()]

        figures = self.service.remember(("figures", charts.page), self.filt, build, unmasked=self.unmasked)
        return frames, figures


def analytics() -> AnalyticsService:
    """The analytics service of the running app (pages must not import `dashboard`)."""
    return current_app.extensions[ANALYTICS_KEY]


def page_context(
    facility_ids: Any, start: Any, end: Any, channel: Any = None, *, unmasked: Any = None, page: str | None = None
) -> PageContext:
    """Validate raw filter values and resolve the facilities against the caller's scope, or raise PageError.

    `unmasked` is the page's switch value: on, it needs view_unmasked (refused otherwise) and is audited as
    unmasked_view with target `page`.
    """
    scope = optional_user_scope()
    if scope is None:
        raise PageError("Sign in to see this page.")
    try:
        filt = build_filter(_as_list(facility_ids), start or None, end or None, channel or None)
        resolved = scope.resolve(filt.facility_ids)
        if is_on(unmasked):
            scope.require("view_unmasked")
    except (FilterError, AuthError) as exc:
        raise PageError(str(exc)) from None
    filt = replace(filt, facility_ids=resolved)
    if is_on(unmasked):
        audit.record(current_engine(), "unmasked_view", user_id=scope.user.id, target=page,
                     details={"facility_ids": list(resolved), "start": f"{filt.start:%Y-%m}",
                              "end": f"{filt.end:%Y-%m}", "source": "page"}, ip=client_ip())
    return PageContext(scope, analytics(), filt, unmasked=is_on(unmasked))


def search_string(facility_ids: Any, start: Any, end: Any, channel: Any = None) -> str:
    """The query string (with '?') for these filter values, in the API's names; '' when there is nothing."""
    pairs: list[tuple[str, Any]] = [("facility_id", fid) for fid in _as_list(facility_ids) or []]
    pairs += [(name, value) for name, value in (("start", start), ("end", end), ("channel", channel)) if value]
    return "?" + urlencode(pairs) if pairs else ""


def query_values(query: Mapping[str, Any]) -> dict[str, Any]:
    """Filter values from a page's URL query (`layout(**query)`), with the default month range filled in."""
    end = _text(query.get("end")) or f"{current_month():%Y-%m}"
    start = _text(query.get("start"))
    if start is None:
        try:
            start = f"{build_filter(end=end).start:%Y-%m}"
        except FilterError:
            start = end
    return {
        "facility_ids": _as_list(query.get("facility_id")) or [],
        "start": start,
        "end": end,
        "channel": _text(query.get("channel")),
    }


def page_frame(
    page_id: str,
    path: str,
    title: str,
    query: Mapping[str, Any],
    body: Callable[[Scope], Sequence[Component]],
    *,
    dataset: str | None,
    with_channel: bool = False,
) -> html.Div:
    """The whole page: navbar, title and freshness, filter bar, a status line, the body and the URL sync stores.

    `dataset` names the view whose freshness the page shows; None means the oldest of them (the overview).
    """
    scope = optional_user_scope()
    if scope is None:
        return html.Div([html.H1(title), empty_state("Sign in to see this page.", hint=None)], className="page")
    values = query_values(query)
    service = analytics()
    names = service.facilities().set_index("id")["name"]
    options = {fid: names.get(fid, f"Facility {fid}") for fid in scope.facility_ids}
    selected = [_as_int(fid) for fid in values["facility_ids"]]
    search = search_string(values["facility_ids"], values["start"], values["end"], values["channel"])
    controls = filter_bar(
        page_id,
        options,
        selected,
        values["start"],
        values["end"],
        CHANNELS if with_channel else None,
        channel=values["channel"],
        months=month_choices(values["start"], values["end"]),
    )
    hidden_channel = [] if with_channel else [dcc.Store(id=f"{page_id}-channel", data=values["channel"])]
    return html.Div(
        [
            html.Div(nav(scope, path, search), id=f"{page_id}-nav"),
            html.Main(
                [
                    html.Div(
                        [
                            html.H1(title, className="page-title"),
                            html.Div(freshness(as_of(service, dataset)), id=f"{page_id}-freshness"),
                        ],
                        className="page-header",
                    ),
                    controls,
                    unmasked_switch(page_id, allowed=scope.can("view_unmasked")),
                    html.Div(id=f"{page_id}-unmasked-banner"),
                    html.Div(id=f"{page_id}-status", role="status", **{"aria-live": "polite"}),
                    *body(scope),
                ],
                className="page",
                id=f"{page_id}-page",
            ),
            *hidden_channel,
            dcc.Store(id=f"{page_id}-search", data=search),
            dcc.Store(id=f"{page_id}-url-sync"),
        ],
        className="page-root",
    )


def nav(scope: Scope, active_path: str, search: str) -> html.Header:
    """The navbar with every page link carrying the current filters (and Admin for admins)."""
    links = [(label, f"{path}{search}") for label, path in PAGES]
    if scope.can("manage_users"):
        links.append(ADMIN_LINK)
    active = active_path if active_path == ADMIN_LINK[1] else f"{active_path}{search}"
    return navbar(scope.user.email, scope.user.role, links, active_path=active)


def month_choices(start: str | None, end: str | None) -> list[date]:
    """Months for the pickers: MONTH_SPAN months up to the later of this month and `end`, plus `start`."""
    months = []
    for value in (start, end):
        try:
            months.append(parse_month(value))
        except FilterError:
            continue
    last = max([current_month(), *months])
    span = [add_months(last, -i) for i in range(MONTH_SPAN)]
    return sorted(set(span) | set(months))


def register_url_sync(page_id: str, path: str, *, with_channel: bool = False) -> None:
    """Keep the address bar and the navbar links in step with `page_id`'s filters."""
    channel_prop = "value" if with_channel else "data"

    @callback(
        Output(f"{page_id}-search", "data"),
        Output(f"{page_id}-nav", "children"),
        Input(f"{page_id}-facility", "value"),
        Input(f"{page_id}-start", "value"),
        Input(f"{page_id}-end", "value"),
        Input(f"{page_id}-channel", channel_prop),
        prevent_initial_call=True,
    )
    def sync_url(facility_ids: Any, start: Any, end: Any, channel: Any) -> tuple[str, Any]:
        scope = optional_user_scope()
        search = search_string(facility_ids, start, end, channel)
        return search, nav(scope, path, search) if scope is not None else None

    clientside_callback(
        _REPLACE_URL_JS,
        Output(f"{page_id}-url-sync", "data"),
        Input(f"{page_id}-search", "data"),
    )

    @callback(
        Output(f"{page_id}-unmasked-banner", "children"),
        Input(f"{page_id}-unmasked", "value"),
        prevent_initial_call=True,
    )
    def unmasked_notice(value: Any) -> Any:
        scope = optional_user_scope()
        if not is_on(value) or scope is None or not scope.can("view_unmasked"):
            return None
        return unmasked_banner(analytics().policy.threshold)


def problem(message: str) -> html.Div:
    """The in-page message for a filter the page cannot show."""
    return html.Div(
        [html.P(message, className="empty-state-message"), html.P(NO_DATA_HINT, className="empty-state-hint")],
        className="empty-state page-problem",
        role="alert",
    )


def no_data() -> html.Div:
    return empty_state(NO_DATA_MESSAGE)


def blank_figures(titles: Sequence[str], message: str) -> list[go.Figure]:
    """Explanatory empty figures, one per chart, carrying `message` (no data of any facility)."""
    return [empty_figure(title, message) for title in titles]


def freshness(stamp: datetime | None) -> html.Div:
    """'Data as of <time>' (or 'not refreshed yet')."""
    return freshness_banner(stamp)


def as_of(service: AnalyticsService, dataset: str | None) -> datetime | None:
    """When `dataset`'s view last refreshed; for None, the oldest of the four views."""
    return service.oldest_as_of() if dataset is None else service.as_of().get(dataset)


def _as_list(value: Any) -> list[Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    return value if isinstance(value, str) and value != "" else None


def _as_int(value: Any) -> Any:
    """A facility id from the URL as int when it is one (the dropdown's values are ints)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def chart_grid(charts: PageCharts) -> list[Component]:
    """The page's report button and one card per chart (in the order of components/charts.py), with export menus."""
    cards = [
        chart_card(charts.component_id(c.chart_id), c.title, go.Figure(), actions=export_menu(charts.page, c.chart_id))
        for c in charts.charts
    ]
    return [report_button(charts.page), html.Div(cards, className="chart-grid")]


def chart_outputs(charts: PageCharts) -> list[Output]:
    """The `figure` output of every chart of the page, in the order `PageContext.charts` returns them."""
    return [Output(charts.component_id(c.chart_id), "figure") for c in charts.charts]


def chart_titles(charts: PageCharts) -> tuple[str, ...]:
    return tuple(c.title for c in charts.charts)
