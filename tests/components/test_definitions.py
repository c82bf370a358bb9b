"""The chart definitions behind each card's "About this chart" (components/definitions.py) are docs/KPIS.md's
"What each chart shows", word for word, and every chart of every page has one (issue 16, item 5)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from components.definitions import DEFINITIONS
from components.registry import PAGES

ROOT = Path(__file__).resolve().parents[2]


def make_definitions():
    spec = importlib.util.spec_from_file_location("make_definitions", ROOT / "docs" / "make_definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_definitions_are_generated_from_kpis_md() -> None:
    tool = make_definitions()
    found = tool.definitions((ROOT / "docs" / "KPIS.md").read_text(encoding="utf-8"))
    assert found == DEFINITIONS, "run `python docs/make_definitions.py` after editing docs/KPIS.md"
    assert tool.render(found) == (ROOT / "components" / "definitions.py").read_text(encoding="utf-8")


def test_every_chart_has_a_definition() -> None:
    for page in PAGES.values():
        for chart_id in [c.chart_id for c in page.charts] or ["kpis"]:
            assert len(page.definition(chart_id)) > 40, (page.page_id, chart_id)
    # Hires and placements are different counts: the overview's definition says why.
    assert "placement" in PAGES["overview"].definition("kpis")
