"""What a page says besides its numbers, through the real Dash endpoints: the default months end at the last
complete month and the page says so (issue 16, item 2); every chart card has its definition (item 5) and, filled
by the page's callback, its privacy note as HTML, a data table and a description (items 3 and 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.registry import PAGES
from data.filters import add_months, last_complete_month

from .conftest import DashCaller, filters
from .test_callbacks import find, text_of


@pytest.fixture
def viewer(make_user: Callable, auth: Any) -> Any:
    user, password = make_user("viewer")
    assert auth.login(user.email, password).status_code == 302
    return user


@pytest.mark.parametrize("path", ["/", "/revenue"])
def test_default_months_end_at_the_last_complete_month_and_the_page_says_so(
    dash_call: DashCaller, viewer: Any, path: str
) -> None:
    page = dash_call("_pages_content", {"_pages_location.pathname": path, "_pages_location.search": ""})
    content = page["_pages_content"]
    page_id = "overview" if path == "/" else path.strip("/")
    last = last_complete_month()
    assert find(content, f"{page_id}-end")["props"]["value"] == f"{last:%Y-%m}"
    assert find(content, f"{page_id}-start")["props"]["value"] == f"{add_months(last, -11):%Y-%m}"
    hint = text_of(find(content, f"{page_id}-filter-hint"))
    assert f"to {last:%Y-%m}, the last complete month" in hint


def test_every_chart_card_carries_its_definition(dash_call: DashCaller, viewer: Any) -> None:
    for page in PAGES.values():
        page_json = dash_call("_pages_content", {"_pages_location.pathname": page.path,
                                                 "_pages_location.search": "?start=2025-07&end=2026-06"})
        content = page_json["_pages_content"]
        charts = [c.chart_id for c in page.charts] or ["kpis"]
        for chart_id in charts:
            component = f"{page.page_id}-{chart_id}" if page.charts else f"{page.page_id}-kpis-card"
            about = find(content, f"{component}-about")
            assert about is not None, f"{component}: no 'About this chart'"
            assert text_of(about).startswith("About this chart") and page.definition(chart_id) in text_of(about)


def test_the_update_fills_each_cards_note_data_table_and_description(dash_call: DashCaller, viewer: Any) -> None:
    out = dash_call("revenue-by-facility", filters("revenue"))
    figure = out["revenue-by-facility"]
    assert figure["layout"]["title"]["text"] == ""  # the card's heading carries it, and wraps
    note = json.dumps(out["revenue-by-facility-subtitle"])
    assert "protect privacy" in note and '"href": "/privacy"' in note
    table = json.dumps(out["revenue-by-facility-data"])
    assert '"Facility"' in table and '"Revenue"' in table
    assert out["revenue-by-facility-summary"].startswith("Revenue by facility. Bar chart of Revenue by facility")
