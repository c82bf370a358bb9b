"""components/describe.py and the readability of chart text: what a page shows around each chart (the title and
privacy note as HTML that wraps, a data table, a description for screen readers), labels that keep their size,
one legend order whatever marks a figure needs, patterned bars drawn in their colour."""

from __future__ import annotations

import json
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html
from plotly.io.json import to_json_plotly

from components import theme
from components.describe import ON_SCREEN_TOP_MARGIN, chart_text, plain_text, rich_text
from components.figures import LEGEND_RANKS, empty_figure, wrap_label
from components.outreach import volume_by_channel_month
from components.pipeline import funnel
from components.revenue import revenue_by_facility, revenue_by_month
from data.specs import OUTREACH, PIPELINE, REVENUE

from .conftest import FACILITY, K, outreach_row, pipeline_row, revenue_row, totals


def as_json(fig: go.Figure) -> dict[str, Any]:
    return json.loads(to_json_plotly(fig))


def revenue_rows() -> list[dict]:
    return [revenue_row(1, 0, placements=10, invoices=20, revenue="120000.50"),
            revenue_row(1, 1, placements=12, invoices=25, revenue="150000.00"),
            revenue_row(2, 0, placements=2, invoices=2, revenue="9000.00"),
            revenue_row(2, 1, placements=300, invoices=400, revenue="717554123.00"),
            revenue_row(3, 0, placements=2, invoices=2, revenue="5000.00")]


def kids(node: Any) -> Any:
    """The children of a Dash component or of its JSON (the data tables' rows and cells are written as JSON)."""
    return node["props"]["children"] if isinstance(node, dict) else node.children


def table_cells(table: Any) -> tuple[list[str], dict[str, list[str]]]:
    """A data table's header and, per row label, its cells."""
    _, head, body = kids(kids(table))
    header = [kids(th) for th in kids(kids(head))]
    return header, {kids(row_cells[0]): [kids(td) for td in row_cells[1:]] for row_cells in map(kids, kids(body))}


def texts(component: Any) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child)
        elif isinstance(node, dict) or hasattr(node, "children"):
            walk(kids(node))

    walk(component)
    return found


def test_the_page_draws_the_figure_without_its_title_and_shows_the_note_as_wrapping_html() -> None:
    fig = as_json(revenue_by_facility(totals(REVENUE, revenue_rows(), FACILITY), threshold=K))
    text = chart_text(fig)
    assert text.figure["layout"]["title"] == {"text": ""}
    assert text.figure["layout"]["margin"]["t"] == ON_SCREEN_TOP_MARGIN
    assert fig["layout"]["title"]["text"] == "Revenue by facility"  # the export keeps its own title
    (link,) = [c for c in text.subtitle if isinstance(c, dcc.Link)]
    assert link.href == "/privacy" and link.children == "Why?"
    assert "hidden to protect privacy" in text.subtitle[0]


def test_the_data_table_lists_every_value_as_the_hover_writes_it() -> None:
    fig = as_json(revenue_by_facility(totals(REVENUE, revenue_rows(), FACILITY), threshold=K))
    table = chart_text(fig).table
    assert isinstance(table, html.Div) and getattr(table, "aria-label") == "Revenue by facility: data table"
    head, cells = table_cells(table)
    # South left its hidden January out: the table says so in words, as the dotted bar does.
    assert cells["South"] == ["$717,554,123.00 (partial)"] and cells["North"] == ["$270,000.50"]
    assert cells["East"] == ["hidden"]  # a hidden value is in the table too, in words
    assert head == ["Facility", "Revenue"]


def test_the_description_says_what_is_drawn_and_that_some_values_are_hidden() -> None:
    fig = as_json(revenue_by_facility(totals(REVENUE, revenue_rows(), FACILITY), threshold=K))
    summary = chart_text(fig).summary
    assert summary.startswith("Revenue by facility. Bar chart of Revenue by facility: 3 rows, from South to East.")
    assert "hidden to protect privacy" in summary and "data table" in summary
    empty = chart_text(as_json(empty_figure("Revenue by month", "No data for this selection", hint=None)))
    assert empty.table is None and empty.summary == "Revenue by month: No data for this selection"


def test_stacked_and_grouped_charts_get_one_column_per_series() -> None:
    rows = [outreach_row(1, 0, "email", sent=40, responded=10, converted=2),
            outreach_row(1, 0, "sms", sent=3, responded=1, converted=0),
            outreach_row(1, 1, "email", sent=50, responded=12, converted=3)]
    fig = as_json(volume_by_channel_month(totals(OUTREACH, rows, ["month", "channel"]), threshold=K))
    table = chart_text(fig).table
    head, body = table_cells(table)
    assert head == ["Month", "Email", "SMS"]
    assert body["2024-01"] == ["40", "hidden"]


def test_markup_becomes_plain_text_and_links() -> None:
    assert plain_text("<b>Applied</b><br>5,256") == "Applied 5,256"
    parts = rich_text('Numbers below 5 are hidden. <a href="/privacy" target="_self">Why?</a>')
    assert parts[0] == "Numbers below 5 are hidden. " and isinstance(parts[1], dcc.Link)
    assert rich_text("") == []


def test_bar_labels_keep_their_size_and_fit_the_chart() -> None:
    fig = revenue_by_facility(totals(REVENUE, revenue_rows(), FACILITY), threshold=K)
    labelled = [t for t in fig.data if t.meta and t.meta.get("role") in ("value", "partial")]
    assert all(t.constraintext == "none" for t in labelled)  # never shrunk to the bar's thickness
    assert fig.layout.uniformtext.minsize == 12
    assert fig.layout.xaxis.range[1] > 717554123.0 * 1.15  # room after the longest bar for its label
    assert fig.layout.xaxis.tickformat == "$~s"
    whole = funnel(totals(PIPELINE, [pipeline_row(1, 0, hired=6, rejected=30, pending=24, offered=10,
                                                  interviewed=20)], []), threshold=K)
    assert whole.layout.xaxis.range[1] > 60 * 1.2


def test_long_facility_names_wrap_onto_two_lines_and_keep_their_full_name() -> None:
    assert wrap_label("Pine Hollow Regional Medical Center") == "Pine Hollow Regional<br>Medical Center"
    assert wrap_label("North") == "North"
    fig = revenue_by_facility(totals(REVENUE, revenue_rows(), FACILITY), threshold=K)
    assert list(fig.layout.yaxis.ticktext) == list(fig.layout.yaxis.categoryarray)  # short names: one line


def test_patterned_bars_are_drawn_in_their_colour() -> None:
    fig = revenue_by_month(totals(REVENUE, revenue_rows(), ["month"]), threshold=K)
    patterned = [t for t in fig.data if t.type == "bar" and t.marker.pattern and t.marker.pattern.shape]
    assert patterned
    for trace in patterned:
        assert trace.marker.pattern.bgcolor == trace.marker.color


def legend(fig: go.Figure) -> list[str]:
    shown = [(t.legendrank if t.legendrank is not None else 1000, i, t.name) for i, t in enumerate(fig.data)
             if t.showlegend is not False and t.name]
    return [name for _, _, name in sorted(shown)]


def test_the_legend_order_is_the_same_whatever_marks_a_figure_needs() -> None:
    """Channels in theme.CHANNEL_ORDER, then the hidden mark, then the pattern keys: for a selection with nothing
    hidden (what an admin's unmasked view draws) and one where small counts are hidden."""
    complete = [outreach_row(1, m, c, sent=40, responded=10, converted=2) for m in (0, 1)
                for c in ("sms", "email", "phone")]
    masked = [*complete[:-1], outreach_row(1, 1, "phone", sent=3, responded=1, converted=0)]
    orders = [legend(volume_by_channel_month(totals(OUTREACH, rows, ["month", "channel"]), threshold=K))
              for rows in (complete, masked)]
    channels = [theme.channel_label(c) for c in theme.CHANNEL_ORDER if c in ("sms", "email", "phone")]
    assert orders[0] == channels
    assert orders[1][:3] == channels and orders[1][3:] == sorted(orders[1][3:], key=orders[1][3:].index)
    fig = volume_by_channel_month(totals(OUTREACH, masked, ["month", "channel"]), threshold=K)
    ranks = [t.legendrank for t in fig.data if t.meta and str(t.meta.get("role", "")).startswith(("suppressed", "key"))]
    assert ranks and all(r >= LEGEND_RANKS["suppressed"] for r in ranks)
    assert fig.layout.template.layout.legend.traceorder == "normal"

