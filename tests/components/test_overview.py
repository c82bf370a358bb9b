"""components/overview.py: tiles from kpis rows (values and their contract details) and by-month totals."""

from __future__ import annotations

import json
from typing import Any

from plotly.io.json import to_json_plotly

from components.overview import TILES, change_vs_previous, kpi_tiles, sparkline, tile_text
from data.masking import MaskPolicy, mask
from data.specs import DATASETS
from data.totals import kpi_totals

from ..data.test_masking import frame, outreach_row, pipeline_row, revenue_row
from .conftest import K, totals

TILE = {t.key: t for t in TILES}


def kpis(pipeline: list[dict], revenue: list[dict] | None = None) -> dict[str, Any]:
    frames = {"pipeline": mask(frame(DATASETS["pipeline"], pipeline), DATASETS["pipeline"], MaskPolicy(threshold=K))}
    if revenue is not None:
        frames["revenue"] = mask(frame(DATASETS["revenue"], revenue), DATASETS["revenue"], MaskPolicy(threshold=K))
    return kpi_totals(frames, threshold=K)


def flat(component: Any) -> list[Any]:
    out = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        out += flat(child)
    return out


def by_id(root: Any, component_id: str) -> Any:
    return next(c for c in flat(root) if getattr(c, "id", None) == component_id)


def text(component: Any) -> str:
    return " ".join(str(c) for c in flat(component) if isinstance(c, str | int | float))


def test_revenue_fits_the_tile_in_compact_notation_with_the_exact_value_on_hover() -> None:
    row = kpis([pipeline_row(1, 0, hired=20, rejected=40, pending=40)],
               [revenue_row(1, 0, placements=300, invoices=900, revenue="717554123.45")])
    shown, exact = tile_text(TILE["revenue"], row)
    assert shown == "$717.6M" and exact == "$717,554,123.45"
    tile = by_id(kpi_tiles(row, None, {}, threshold=K), "overview-kpi-revenue")
    assert "$717.6M" in text(tile) and "$717,554,123.45" in tile.title


def test_hidden_range_and_undefined_tiles_say_which() -> None:
    hidden = kpis([pipeline_row(1, 0, hired=2, rejected=1, pending=1)])
    assert tile_text(TILE["hired"], hidden)[0] == "hidden"
    assert tile_text(TILE["revenue"], hidden) == ("—", "no activity in these months")
    ranged = kpis([pipeline_row(1, 0, hired=20, rejected=40, pending=40),
                   pipeline_row(2, 0, hired=3, rejected=40, pending=40)])
    assert tile_text(TILE["hired"], ranged)[0] == "21 to 63"  # 20 plus at least 1 and at most the 43 offers
    tiles = kpi_tiles(ranged, None, {}, threshold=K)
    assert "Range: too many hidden numbers for one value" in text(by_id(tiles, "overview-kpi-hired"))


def test_change_is_only_compared_between_complete_values() -> None:
    now = kpis([pipeline_row(1, 0, hired=30, rejected=40, pending=30)])
    before = kpis([pipeline_row(1, 0, hired=20, rejected=40, pending=40)])
    assert change_vs_previous(now, before, TILE["hired"]) == ("▲", "+50.0%", "up")
    assert change_vs_previous(now, before, TILE["hire_rate"]) == ("▲", "+10.0 pp", "up")
    assert change_vs_previous(now, before, TILE["time_to_fill_days"])[2] == "flat"
    partial = kpis([pipeline_row(1, 0, hired=30, rejected=40, pending=30),
                    pipeline_row(2, 0, hired=3, rejected=40, pending=40)])
    assert change_vs_previous(partial, before, TILE["hired"]) == ("", "n/a", "na")


def test_sparklines_draw_complete_months_and_leave_gaps_elsewhere() -> None:
    trends = {"pipeline": totals(DATASETS["pipeline"], [pipeline_row(1, 0, hired=20, rejected=40, pending=40),
                                                        pipeline_row(1, 1, hired=2, rejected=10, pending=10)],
                                 ["month"]),
              "outreach": totals(DATASETS["outreach"], [outreach_row(1, 0, sent=50, responded=10, converted=2)],
                                 ["month"])}
    row = kpis([pipeline_row(1, 0, hired=20, rejected=40, pending=40)])
    tiles = kpi_tiles(row, row, trends, threshold=K)
    graph = next(c for c in flat(by_id(tiles, "overview-kpi-hired")) if type(c).__name__ == "Graph")
    assert list(graph.figure["data"][0]["y"]) == [20.0, None]
    # The tiles' sparklines are plain JSON, exactly what sparkline() draws.
    tile = next(t for t in TILES if t.key == "hired")
    assert json.loads(to_json_plotly(sparkline(trends["pipeline"], tile))) == json.loads(
        to_json_plotly(graph.figure))
    empty = [c for c in flat(by_id(tiles, "overview-kpi-revenue")) if "kpi-spark--empty" in
             str(getattr(c, "className", ""))]
    assert len(empty) == 1
