from datetime import UTC, datetime

import plotly.graph_objects as go
import pytest
from dash import dcc, html

from components import layout


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)


def _by_id(root, component_id):
    (found,) = [c for c in _walk(root) if getattr(c, "id", None) == component_id]
    return found


def test_navbar_has_brand_links_user_and_sign_out():
    bar = layout.navbar("ann@example.org", "recruiter", [("Overview", "/"), ("Pipeline", "/pipeline")], active_path="/")
    links = [c for c in _walk(bar) if isinstance(c, dcc.Link)]
    assert [(link.children, link.href) for link in links] == [("Overview", "/"), ("Pipeline", "/pipeline")]
    assert "nav-link--active" in links[0].className and "active" not in links[1].className
    sign_out = _by_id(bar, "app-signout")
    assert isinstance(sign_out, html.A) and sign_out.href == "/logout" and sign_out.children == "Sign out"
    assert _by_id(bar, "app-user").children == "ann@example.org"
    assert any(isinstance(c, html.Img) and c.src == "/assets/logo.svg" for c in _walk(bar))
    assert any(getattr(c, "children", None) == "Recruiter" for c in _walk(bar))


def test_navbar_sign_out_is_a_form_post_carrying_the_csrf_token():
    bar = layout.navbar("ann@example.org", "viewer", [("Overview", "/")], csrf_token="signed.token")
    form = _by_id(bar, "app-signout-form")
    assert isinstance(form, html.Form) and form.method == "post" and form.action == "/logout"
    button = _by_id(form, "app-signout")
    assert isinstance(button, html.Button) and button.type == "submit" and button.children == "Sign out"
    assert (button.name, button.value) == ("csrf_token", "signed.token")


def test_filter_bar_ids_options_and_defaults():
    bar = layout.filter_bar(
        "pipeline", {2: "South", 1: "North"}, [1], "2026-01-01", datetime(2026, 3, 1), months=["2026-01", "2026-02"]
    )
    facility = _by_id(bar, "pipeline-facility")
    assert facility.multi is True and facility.searchable is True
    assert facility.placeholder == "All facilities in your scope"
    assert facility.options == [{"label": "North", "value": 1}, {"label": "South", "value": 2}]
    assert facility.value == [1]
    start, end = _by_id(bar, "pipeline-start"), _by_id(bar, "pipeline-end")
    assert (start.value, end.value) == ("2026-01", "2026-03")
    assert [o["value"] for o in start.options] == ["2026-03", "2026-02", "2026-01"]
    assert not [c for c in _walk(bar) if getattr(c, "id", None) == "pipeline-channel"]


def test_filter_bar_channel_dropdown_for_outreach():
    bar = layout.filter_bar("outreach", [(1, "North")], None, "2026-01", "2026-12", channels=["email", "job_board"])
    channel = _by_id(bar, "outreach-channel")
    assert channel.options == [{"label": "Email", "value": "email"}, {"label": "Job board", "value": "job_board"}]
    assert channel.value is None and channel.placeholder == "All channels"
    assert _by_id(bar, "outreach-facility").value == []
    assert len(_by_id(bar, "outreach-start").options) == 36  # default span ending at `end`


def test_month_options_accept_dict_facilities():
    assert layout.facility_dropdown_options([{"label": "B", "value": 2}, {"label": "a", "value": 1}]) == [
        {"label": "a", "value": 1},
        {"label": "B", "value": 2},
    ]
    assert layout.month_options(None, None) == []


def test_freshness_banner():
    banner = layout.freshness_banner(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))
    assert banner.children == "Data as of 2026-11-29 14:00 UTC"
    missing = layout.freshness_banner(None, component_id="overview-freshness")
    assert missing.children == "Data not refreshed yet" and missing.id == "overview-freshness"
    assert "freshness--missing" in missing.className


def test_empty_state():
    state = layout.empty_state("Nothing here")
    texts = [c.children for c in _walk(state) if isinstance(c, html.P)]
    assert texts[0] == "Nothing here" and "widen" in texts[1]


def test_chart_card_wraps_a_graph_in_a_loading_indicator():
    fig = go.Figure(layout={"title": {"text": "Funnel"}})
    card = layout.chart_card("pipeline-funnel", "Hiring funnel", fig)
    (loading,) = [c for c in _walk(card) if isinstance(c, dcc.Loading)]
    assert isinstance(loading.children, dcc.Graph)
    assert loading.children.id == "pipeline-funnel" and loading.children.figure is fig
    assert loading.children.config["displaylogo"] is False
    assert card.id == "pipeline-funnel-card"
    (title,) = [c for c in _walk(card) if isinstance(c, html.H2)]
    assert title.children == "Hiring funnel" and getattr(card, "aria-labelledby") == title.id
    # The slots the page callback fills from the figure: the subtitle that wraps, the data table, the description.
    ids = {getattr(c, "id", None) for c in _walk(card)}
    assert {"pipeline-funnel-subtitle", "pipeline-funnel-data", "pipeline-funnel-summary"} <= ids
    assert getattr(card, "aria-describedby") == "pipeline-funnel-summary"
    (toggle,) = [c for c in _walk(card) if isinstance(c, html.Details) and c.id == "pipeline-funnel-data-toggle"]
    assert toggle.children[0].children == "Data table"


def test_chart_card_with_other_children_gets_a_heading():
    card = layout.chart_card("admin-runs", "Refresh runs", html.Div("table"))
    assert any(isinstance(c, html.H2) and c.children == "Refresh runs" for c in _walk(card))


@pytest.mark.parametrize(("wide", "spans", "order"), [
    ((False, False, False), [False, False, True], [0, 1, 2]),  # a lone third chart takes the whole row
    ((False, True, False), [False, True, False], [0, 2, 1]),  # halves pair up before the wide one
    ((True, False, False), [True, False, False], [0, 1, 2]),
    ((False, False), [False, False], [0, 1]),
])
def test_chart_grid_never_leaves_half_a_row_empty(wide, spans, order):
    assert layout.grid_widths(wide) == spans
    assert layout.grid_order(layout.grid_widths(wide)) == order
    rows, half = 0, False
    for i in order:  # every half-width card has a partner on its row
        if spans[i]:
            assert not half
            rows += 1
        else:
            half = not half
            rows += 0 if half else 1
    assert not half
