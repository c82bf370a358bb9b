"""Frames as production feeds them to components: raw rows -> the product's masker -> data.totals, grouped as the
page registry declares; and helpers to look inside figures."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.figures import PARTIAL_TRACE, RANGE_TRACE, SUPPRESSED_TRACE, marked_traces
from data.masking import MaskPolicy, mask
from data.specs import DatasetSpec
from data.totals import aggregate_published

from ..data.test_masking import compliance_row, frame, outreach_row, pipeline_row, revenue_row, with_growth

K = 5
FACILITY = ["facility_id", "facility_name"]
NAMES = {1: "North", 2: "South", 3: "East", 4: "West"}


def totals(spec: DatasetSpec, rows: Sequence[dict[str, Any]], by: Sequence[str], k: int = K) -> pd.DataFrame:
    """What the analytics service hands a page: masked rows of a selection, with names, totalled by `by`."""
    rows = [dict(r) for r in rows]
    if spec.growth_columns:
        rows = with_growth(rows)
    masked = mask(frame(spec, rows), spec, MaskPolicy(threshold=k)).frame
    masked.insert(1, "facility_name", masked["facility_id"].map(NAMES))
    return aggregate_published(masked, list(by), spec, threshold=k)


def values(fig: go.Figure, field: str, axis: str = "y") -> list[float | None]:
    """A field's drawn values by position, merged over its full and partial (dotted) traces."""
    traces = [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("field") == field
              and t.meta.get("role") in ("value", PARTIAL_TRACE)]
    assert traces, f"no traces of {field}"
    merged = list(getattr(traces[0], axis))
    for t in traces[1:]:
        merged = [a if a is not None else b for a, b in zip(merged, getattr(t, axis), strict=True)]
    return merged


def hidden_positions(fig: go.Figure) -> list[str]:
    """Categories with a hidden mark (the y categories of a horizontal chart's marks, drawn at x = 0)."""
    found: list[str] = []
    for t in marked_traces(fig, SUPPRESSED_TRACE):
        xs, ys = list(t.x or []), list(t.y or [])
        found.extend(str(v) for v in (ys if xs and all(v == 0 for v in xs) else xs))
    return found


def ranges(fig: go.Figure) -> list[Any]:
    return marked_traces(fig, RANGE_TRACE)


def partials(fig: go.Figure) -> list[Any]:
    return marked_traces(fig, PARTIAL_TRACE)


def subtitle(fig: go.Figure) -> str:
    return fig.layout.title.subtitle.text or ""


__all__ = ["Decimal", "compliance_row", "outreach_row", "pipeline_row", "revenue_row"]
