"""What every page shares: the filters in the URL, the navbar, the page frame, the notices banner, the URL sync.

Filters live in the query string with the API's names (`facility_id` repeated, `start`, `end`, `channel`). A page's
layout reads them through the one authorize step (auth/selection.py, lenient): a bad value or a facility the caller
may not see is replaced or left out, and one banner names each change. A filter change writes the query string back
with `history.replaceState` (so the router does not re-render the page) and rewrites the navbar links, so the view
survives a copied link and moving between pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from dash import Input, Output, State, callback, clientside_callback, dcc, html
from dash.development.base_component import Component

from auth.context import Scope, optional_user_scope, services
from auth.csrf import token_form_value
from auth.selection import Intent, RawFilters, Selection, authorize
from components.admin import is_on, unmasked_banner, unmasked_switch
from components.formatting import PRIVACY_PATH
from components.layout import empty_state, filter_bar, freshness_banner, navbar, notices_banner
from components.registry import PAGES
from data.filters import CHANNELS, add_months, last_complete_month
from data.queries import DATASET_NAMES

NAV = tuple((page.title, page.path) for page in PAGES.values())
ADMIN_LINK = ("Admin", "/admin")  # admins only; the admin page has no filters to carry
MONTH_SPAN = 36  # months offered in the month pickers, ending at the later of this month and the chosen end

LIVE_POLL_MS = 5000  # how often an open page asks whether its data changed (GET /api/v1/live: no database)
# Asks whether any dataset the page shows has a new data version; only then does the page fetch new figures.
_LIVE_POLL_JS = """
function(n, unmasked, paused, current, datasets) {
    const none = window.dash_clientside.no_update;
    if ((paused && paused.length) || !datasets) { return none; }
    const on = Array.isArray(unmasked) && unmasked.includes("on");
    return fetch("/api/v1/live?unmasked=" + (on ? "1" : "0"), {credentials: "same-origin"})
        .then(function(r) { return r.ok ? r.json() : null; })
        .then(function(body) {
            if (!body) { return none; }
            const next = {};
            datasets.forEach(function(d) { next[d] = body.versions[d]; });
            return JSON.stringify(next) === JSON.stringify(current) ? none : next;
        })
        .catch(function() { return none; });
}
"""
# The live line: how long ago the shown data last changed, ticking every second without asking the server.
_LIVE_CLOCK_JS = """
function(n, asOf, paused, release) {
    if (paused && paused.length) { return "Live updates paused: the figures stay as they are."; }
    let text = "Live";
    if (asOf) {
        const s = Math.max(0, Math.round((Date.now() - Date.parse(asOf)) / 1000));
        const ago = s < 90 ? s + " s" : (s < 5400 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h");
        text += " · data last changed " + ago + " ago";
    }
    if (release) { text += " · protected figures update at most every " + Math.round(release / 60) + " min"; }
    return text;
}
"""
_LIVE_PAUSE_JS = "function(paused) { return Boolean(paused && paused.length); }"

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


def raw_filters(facility_ids: Any = None, start: Any = None, end: Any = None, channel: Any = None) -> RawFilters:
    """Filter values from a page's controls or its URL query, as sent."""
    return RawFilters(_as_list(facility_ids), _text(start), _text(end), _text(channel))


def select(raw: RawFilters, *, page_id: str, with_channel: bool, unmasked: Any = None,
           intent: Intent = Intent.VIEW) -> Selection:
    """The page's selection (lenient: bad values replaced, facilities out of scope left out, with notices)."""
    return authorize(raw, intent=intent, target=page_id, unmasked=is_on(unmasked), channel_allowed=with_channel,
                     lenient=True, default_end=last_complete_month())


def search_string(facility_ids: Any, start: Any, end: Any, channel: Any = None) -> str:
    """The query string (with '?') for these filter values, in the API's names; '' when there is nothing."""
    pairs: list[tuple[str, Any]] = [("facility_id", fid) for fid in _as_list(facility_ids)]
    pairs += [(name, value) for name, value in (("start", start), ("end", end), ("channel", channel)) if value]
    return "?" + urlencode(pairs) if pairs else ""


def page_frame(page_id: str, path: str, title: str, query: Mapping[str, Any], body: Sequence[Component], *,
               selection: Selection, with_channel: bool, dataset: str | None) -> html.Div:
    """The whole page: navbar, title and freshness, filter bar, notices, a status line, the body, the URL stores.

    `dataset` names the view whose freshness the page shows; None means the oldest of them (the overview).
    """
    scope, filt = selection.scope, selection.filt
    names = services().analytics.facilities().set_index("id")["name"]
    options = {fid: names.get(fid, f"Facility {fid}") for fid in scope.facility_ids}
    chosen = list(filt.facility_ids) if selection.asked_for_facilities else []
    start, end = f"{filt.start:%Y-%m}", f"{filt.end:%Y-%m}"
    search = search_string(chosen, start, end, filt.channel)
    controls = filter_bar(page_id, options, chosen, start, end, CHANNELS if with_channel else None,
                          channel=filt.channel, months=month_choices(filt.start, filt.end),
                          hint=f"By default the 12 months to {last_complete_month():%Y-%m}, the last complete month.")
    hidden_channel = [] if with_channel else [dcc.Store(id=f"{page_id}-channel", data=filt.channel)]
    datasets = [dataset] if dataset else list(DATASET_NAMES)
    analytics = services().analytics
    versions = dict(zip(datasets, analytics.versions(datasets), strict=True))
    live = html.Div(
        [html.Span("Live", id=f"{page_id}-live-status", className="live-status", role="status"),
         dcc.Checklist(id=f"{page_id}-live-pause", options=[{"label": " Pause live updates", "value": "paused"}],
                       value=[], className="live-pause", inputClassName="live-pause-input")],
        className="live-bar",
    )
    return html.Div(
        [
            html.Div(nav(scope, path, search), id=f"{page_id}-nav"),
            html.Main(
                [
                    html.Div([html.H1(title, className="page-title"),
                              html.Div(freshness(dataset), id=f"{page_id}-freshness"), live],
                             className="page-header"),
                    controls,
                    html.Div(notices_banner(selection.notices), id=f"{page_id}-notices"),
                    unmasked_switch(page_id, allowed=scope.can("view_unmasked")),
                    html.Div(id=f"{page_id}-unmasked-banner"),
                    html.Div(id=f"{page_id}-status", role="status", **{"aria-live": "polite"}),
                    *body,
                ],
                className="page",
                id=f"{page_id}-page",
            ),
            *hidden_channel,
            dcc.Store(id=f"{page_id}-search", data=search),
            dcc.Store(id=f"{page_id}-url-sync"),
            dcc.Store(id=f"{page_id}-versions", data=versions),
            dcc.Store(id=f"{page_id}-live-datasets", data=datasets),
            dcc.Store(id=f"{page_id}-as-of"),
            dcc.Store(id=f"{page_id}-release", data=analytics.cache.release_seconds if analytics.policy.enabled else 0),
            dcc.Interval(id=f"{page_id}-live-poll", interval=LIVE_POLL_MS),
            dcc.Interval(id=f"{page_id}-live-clock", interval=1000),
        ],
        className="page-root",
    )


def signed_out_page(title: str) -> html.Div:
    return html.Div([html.H1(title), empty_state("Sign in to see this page.", hint=None)], className="page")


def nav(scope: Scope, active_path: str, search: str) -> html.Header:
    """The navbar with every page link carrying the current filters (and Admin for admins)."""
    links = [(label, f"{path}{search}") for label, path in NAV]
    if scope.can("manage_users"):
        links.append(ADMIN_LINK)
    active = active_path if active_path in (ADMIN_LINK[1], PRIVACY_PATH) else f"{active_path}{search}"
    return navbar(scope.user.email, scope.user.role, links, active_path=active, csrf_token=token_form_value())


def month_choices(start: date, end: date) -> list[date]:
    """Months for the pickers: MONTH_SPAN months up to the later of this month and `end`, plus `start`."""
    last = max(add_months(last_complete_month(), 1), end)
    return sorted({add_months(last, -i) for i in range(MONTH_SPAN)} | {start, end})


def freshness(dataset: str | None, *, unmasked: bool = False) -> html.Div:
    """'Data as of <time>' of a dataset's view, or of the oldest of them (None)."""
    return freshness_banner(data_as_of(dataset, unmasked=unmasked))


def data_as_of(dataset: str | None, *, unmasked: bool = False) -> datetime | None:
    analytics = services().analytics
    return (analytics.oldest_as_of(unmasked=unmasked) if dataset is None
            else analytics.as_of(unmasked=unmasked).get(dataset))


def iso(stamp: datetime | None) -> str | None:
    return stamp.isoformat() if stamp is not None else None


def filter_inputs(page_id: str) -> tuple[Input, Input, Input]:
    """The facility, start and end filters of a page, in the order callbacks receive them."""
    return (Input(f"{page_id}-facility", "value"), Input(f"{page_id}-start", "value"),
            Input(f"{page_id}-end", "value"))


def register_url_sync(page_id: str, path: str, *, with_channel: bool = False) -> None:
    """Keep the address bar and the navbar links in step with the page's filters; a filter change clears the
    notices about the URL the page was opened with."""
    channel_prop = "value" if with_channel else "data"

    @callback(
        Output(f"{page_id}-search", "data"),
        Output(f"{page_id}-nav", "children"),
        Output(f"{page_id}-notices", "children", allow_duplicate=True),
        *filter_inputs(page_id),
        Input(f"{page_id}-channel", channel_prop),
        prevent_initial_call=True,
    )
    def sync_url(facility_ids: Any, start: Any, end: Any, channel: Any) -> tuple[str, Any, Any]:
        scope = optional_user_scope()
        search = search_string(facility_ids, start, end, channel)
        return search, nav(scope, path, search) if scope is not None else None, None

    clientside_callback(_REPLACE_URL_JS, Output(f"{page_id}-url-sync", "data"), Input(f"{page_id}-search", "data"))

    clientside_callback(_LIVE_POLL_JS, Output(f"{page_id}-versions", "data"),
                        Input(f"{page_id}-live-poll", "n_intervals"), State(f"{page_id}-unmasked", "value"),
                        State(f"{page_id}-live-pause", "value"), State(f"{page_id}-versions", "data"),
                        State(f"{page_id}-live-datasets", "data"), prevent_initial_call=True)
    clientside_callback(_LIVE_CLOCK_JS, Output(f"{page_id}-live-status", "children"),
                        Input(f"{page_id}-live-clock", "n_intervals"), Input(f"{page_id}-as-of", "data"),
                        Input(f"{page_id}-live-pause", "value"), State(f"{page_id}-release", "data"))
    clientside_callback(_LIVE_PAUSE_JS, Output(f"{page_id}-live-poll", "disabled"),
                        Input(f"{page_id}-live-pause", "value"))

    @callback(
        Output(f"{page_id}-unmasked-banner", "children"),
        Input(f"{page_id}-unmasked", "value"),
        prevent_initial_call=True,
    )
    def unmasked_notice(value: Any) -> Any:
        scope = optional_user_scope()
        if not is_on(value) or scope is None or not scope.can("view_unmasked"):
            return None
        return unmasked_banner(services().analytics.policy.threshold)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _text(value: Any) -> Any:
    if isinstance(value, list):
        value = value[-1] if value else None
    return None if value == "" else value
