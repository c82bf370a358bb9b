"""components.jsonable gives exactly what plotly's own encoder gives, for everything a page sends: every chart of
every page, the by-facility tables and the charts' texts, over data with hidden, partial and range cells."""

from __future__ import annotations

import inspect
import json
import random
from typing import Any

import dash_ag_grid as dag
import pytest
from dash import dcc, html
from dash.development.base_component import Component
from plotly.io.json import to_json_plotly

from components.describe import chart_text
from components.figures import PARTIAL_TRACE, SUPPRESSED_TRACE, marked_traces
from components.jsonable import as_json, component_json, html_json
from components.layout import empty_state, freshness_banner
from components.registry import PAGES
from components.tables import totals_table
from data.specs import DATASETS

from .conftest import K, compliance_row, outreach_row, pipeline_row, revenue_row, totals


def _rows(dataset: str, rng: random.Random) -> list[dict[str, Any]]:
    """Four facilities over seven months: small counts (hidden cells, partial totals, ranges) beside large ones."""
    rows = []
    for facility in range(1, 5):
        for month in range(7):
            size = rng.choice([1, 3, 8, 40, 400])
            if dataset == "pipeline":
                rows.append(pipeline_row(facility, month, hired=rng.randint(0, size), rejected=rng.randint(0, size),
                                         pending=rng.randint(1, size)))
            elif dataset == "compliance":
                rows.append(compliance_row(facility, month, passed=rng.randint(0, size), low=rng.randint(0, 3),
                                           high=rng.randint(0, 2)))
            elif dataset == "revenue":
                placements = rng.randint(1, size)
                rows.append(revenue_row(facility, month, placements=placements,
                                        revenue=f"{rng.randint(100, 900_000) * placements / 100:.2f}"))
            else:
                for channel in ("email", "sms", "phone"):
                    sent = rng.randint(1, size)
                    responded = rng.randint(0, sent)
                    rows.append(outreach_row(facility, month, channel, sent=sent, responded=responded,
                                             converted=rng.randint(0, responded)))
    return rows


def plotly_json(obj: Any) -> Any:
    return json.loads(to_json_plotly(obj))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("page", [p for p in PAGES.values() if p.spec is not None], ids=lambda p: p.page_id)
def test_what_a_page_sends_encodes_as_plotly_encodes_it(page, seed):
    rows = _rows(page.page_id, random.Random(seed))
    frames = [totals(DATASETS[page.page_id], rows, by) for by in page.groupings]
    figures = list(page.figures(frames, K).values())
    assert any(marked_traces(f, role) for f in figures for role in (SUPPRESSED_TRACE, PARTIAL_TRACE))
    texts = [chart_text(plotly_json(figure)) for figure in figures]
    sent: list[Any] = [*figures, *(part for t in texts for part in (t.figure, t.subtitle, t.table, t.summary))]
    if page.table:
        sent.append(totals_table(frames[page.table.grouping], page.table.columns, table_id="grid", threshold=K,
                                 unit=page.table.unit))
    sent += [empty_state(), freshness_banner(None)]
    for obj in sent:
        assert as_json(obj) == plotly_json(obj)


def _component_classes() -> list[type]:
    classes = []
    for module in (html, dcc, dag):
        classes += [c for c in vars(module).values() if inspect.isclass(c) and issubclass(c, Component)
                    and c is not Component]
    return classes


@pytest.mark.parametrize("kind", _component_classes(), ids=lambda c: f"{c._namespace}.{c._type}")
def test_components_encode_as_dash_encodes_them(kind):
    """component_json reads what a component was given; Dash asks for each possible prop: the same dict."""
    probe = kind(id="probe", **({"href": "/"} if kind is dcc.Link else {}))
    wildcards = probe._valid_wildcard_attributes
    given: dict[str, Any] = {"id": "c", "className": None} if "className" in probe._prop_names else {"id": "c"}
    if "children" in probe._prop_names:
        given["children"] = [html.Span("x", **{"aria-hidden": "true"}), "text", None]
    if kind is dcc.Link:
        given["href"] = "/"
    given.update({f"{w}x": "1" for w in wildcards})
    component = kind(**given)
    assert component_json(component) == component.to_plotly_json()
    assert as_json(component) == plotly_json(component)


@pytest.mark.parametrize(("tag", "children", "props"), [("Td", "12.5%", {}), ("Th", "North", {"scope": "row"}),
                                                       ("Tr", [html_json("Td", "x")], {})])
def test_html_json_is_the_json_of_its_html_component(tag, children, props) -> None:
    assert html_json(tag, children, **props) == getattr(html, tag)(children, **props).to_plotly_json()
