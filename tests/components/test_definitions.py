"""The chart definitions behind each "i" button are docs/KPIS.md's wording, and every chart has one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from components.definitions import DEFINITIONS
from components.registry import PAGES

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("make_definitions", ROOT / "docs" / "make_definitions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_definitions_are_generated_from_the_current_kpis_md() -> None:
    generator = _generator()
    expected = generator.render(generator.definitions(generator.KPIS_MD.read_text(encoding="utf-8")))
    assert generator.TARGET.read_text(encoding="utf-8") == expected, (
        "components/definitions.py is out of date: run `python docs/make_definitions.py`")


def test_every_chart_of_every_page_has_a_definition() -> None:
    charts = {(page.page_id, chart.chart_id) for page in PAGES.values() for chart in page.charts}
    assert charts, "the registry declares charts"
    missing = sorted(charts - set(DEFINITIONS))
    assert not missing, f"charts without a definition in docs/KPIS.md: {missing}"
