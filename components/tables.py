"""Data tables (dash-ag-grid) whose columns come from the dataset schema (data/specs.py).

Two kinds: totals tables (one row per facility, built from a totals frame, each cell written as the contract of
data/contract.py allows: a value, a range, "hidden", or empty when undefined, with partial rows marked) and
record tables (the violations drill-down).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import dcc, html

from components import theme
from components.figures import Unit, facility_labels, field_view
from components.formatting import HIDDEN_TEXT, NO_DATA_MESSAGE, PRIVACY_PATH, fmt_value, hidden_note, is_missing
from data.contract import Shown
from data.specs import Column

TEXT_SUFFIX = "__text"
STATE_SUFFIX = "__state"
COMPLETE = "complete"  # the marker column of a totals table
NUMERIC_DISPLAYS = frozenset({"int", "percent", "currency", "days", "score", "change"})
PARTIAL_MARK = "◐"
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_NO_VALUE = frozenset({Shown.SUPPRESSED.value, Shown.UNDEFINED.value})  # cells whose raw value stays empty
_LEFT_OUT = frozenset({"partial", Shown.RANGE.value, Shown.SUPPRESSED.value})  # cell states that make a row partial


def _ref(key: str) -> str:
    return f"params.data.{key}" if _IDENTIFIER.match(key) else f"params.data[{key!r}]"


def column_defs(columns: Sequence[Column], *, first: str = "Facility", marker: bool = False) -> list[dict]:
    """AG Grid columns: the grid sorts and filters raw values and shows the preformatted text."""
    defs: list[dict[str, Any]] = [{
        "field": "label", "headerName": first, "pinned": "left", "minWidth": 180, "flex": 2,
        "tooltipField": "label", "wrapText": True, "autoHeight": True, "filter": "agTextColumnFilter",
    }]
    if marker:
        defs.append({"field": COMPLETE, "headerName": "Complete?", "minWidth": 110, "filter": "agTextColumnFilter",
                     "headerTooltip": "Partial rows leave hidden numbers out of their totals",
                     "cellClassRules": {"cell-partial": f"{_ref(COMPLETE)} !== 'yes'"}})
    for column in columns:
        text, state = _ref(f"{column.name}{TEXT_SUFFIX}"), _ref(f"{column.name}{STATE_SUFFIX}")
        numeric = column.display in NUMERIC_DISPLAYS
        definition: dict[str, Any] = {
            "field": column.name,
            "headerName": column.label,
            "headerTooltip": column.label,
            "valueFormatter": {"function": text},
            "tooltipValueGetter": {"function": f"{text}"},
            "cellClassRules": {"cell-hidden": f"{state} === 'suppressed'", "cell-range": f"{state} === 'range'",
                               "cell-partial": f"{state} === 'partial'"},
            "filter": "agNumberColumnFilter" if numeric else "agTextColumnFilter",
            "minWidth": 110,
            "flex": 1,
        }
        if numeric:
            definition["type"] = "rightAligned"
        defs.append(definition)
    return defs


def totals_rows(frame: pd.DataFrame, columns: Sequence[Column], *, labels: Sequence[str]) -> list[dict[str, Any]]:
    """Grid rows of a totals frame: per column the raw value for sorting (the least a range can be), its text and
    its state (point, partial, range, suppressed, undefined); `complete` says whether the row left anything out."""
    records: list[dict[str, Any]] = [{"label": label} for label in labels]
    left_out = [False] * len(records)
    for column in columns:  # column by column, from plain lists: a thousand-row table has thousands of cells
        view = field_view(frame, column)
        name, text_key, state_key = column.name, f"{column.name}{TEXT_SUFFIX}", f"{column.name}{STATE_SUFFIX}"
        display = column.display
        shown = view.shown.tolist()
        states = ["partial" if p else str(s) for s, p in zip(shown, view.partial.tolist(), strict=True)]
        raws = [None if s in _NO_VALUE else _raw(low if s == Shown.RANGE else value, display)
                for s, value, low in zip(shown, view.values.tolist(), view.low.tolist(), strict=True)]
        texts = ["" if s == Shown.UNDEFINED else text for s, text in zip(shown, view.texts, strict=True)]
        for record, raw, text, state in zip(records, raws, texts, states, strict=True):
            record[name] = raw
            record[text_key] = text
            record[state_key] = state
        left_out = [out or state in _LEFT_OUT for out, state in zip(left_out, states, strict=True)]
    for record, partial in zip(records, left_out, strict=True):
        record[COMPLETE] = f"{PARTIAL_MARK} partial" if partial else "yes"
    return records


def row_labels(frame: pd.DataFrame) -> list[str]:
    """Facility names, with the channel when rows are per facility and channel."""
    labels = facility_labels(frame)
    if "channel" in frame.columns:
        return [f"{label} · {theme.channel_label(c)}" for label, c in zip(labels, frame["channel"], strict=True)]
    return labels


def totals_table(frame: pd.DataFrame, columns: Sequence[Column], *, table_id: str, threshold: int,
                 unit: Unit = ("month", "months"), page_size: int = 25) -> html.Div:
    """One row per facility of a totals frame, with a legend for hidden, partial and range cells."""
    rows = totals_rows(frame, columns, labels=row_labels(frame))
    grid = _grid(rows, column_defs(columns, marker=True), table_id=table_id, page_size=page_size)
    states = {r[f"{c.name}{STATE_SUFFIX}"] for r in rows for c in columns}
    notes = []
    if Shown.SUPPRESSED.value in states:
        notes.append(f'"{HIDDEN_TEXT}": {hidden_note(threshold).lower()}')
    if "partial" in states or Shown.RANGE.value in states:
        notes.append(f"{PARTIAL_MARK} partial: a row's totals leave out {unit[1]} with hidden numbers; where too "
                     "much is left out for one value, the cell gives the range the published numbers allow")
    children: list[Any] = [grid]
    if notes:
        children.append(html.P([f"{'. '.join(n[0].upper() + n[1:] for n in notes)}. ",
                                dcc.Link("Why?", href=PRIVACY_PATH)], className="table-note"))
    return html.Div(children, className="table-card")


def record_table(frame: pd.DataFrame, columns: Sequence[Column], *, table_id: str, page_size: int = 25
                 ) -> html.Div:
    """Record-level rows (the violations drill-down): check types and severities in words."""
    names = frame["facility_name"].tolist() if "facility_name" in frame else [None] * len(frame)
    ids = frame["facility_id"].tolist() if "facility_id" in frame else [None] * len(frame)
    rows: list[dict[str, Any]] = [{"label": name or f"Facility {fid}"} for name, fid in zip(names, ids, strict=True)]
    for column in columns:  # column by column: one list per column instead of a dict per row from pandas
        values = frame[column.name].tolist() if column.name in frame else [None] * len(frame)
        name, text_key, state_key = column.name, f"{column.name}{TEXT_SUFFIX}", f"{column.name}{STATE_SUFFIX}"
        for row, value in zip(rows, values, strict=True):
            if column.name == "check_type" and isinstance(value, str):
                text = theme.check_type_label(value)
            elif column.name == "severity" and isinstance(value, str):
                text = theme.SEVERITY_LABELS.get(value, value)
            else:
                text = "" if is_missing(value) else fmt_value(value, column.display)
            row[name] = _raw(value, column.display)
            row[text_key] = text
            row[state_key] = "point"
    shown = [c for c in columns if c.name not in ("facility_id", "facility_name")]
    return html.Div(_grid(rows, column_defs(shown), table_id=table_id, page_size=page_size), className="table-card")


def _grid(rows: list[dict[str, Any]], defs: list[dict[str, Any]], *, table_id: str, page_size: int) -> dag.AgGrid:
    return dag.AgGrid(
        id=table_id,
        rowData=rows,
        columnDefs=defs,
        # Long headers ("Placements invoiced") and values ("at least $2,498,600.78") wrap instead of being cut.
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "wrapHeaderText": True,
                       "autoHeaderHeight": True, "wrapText": True, "autoHeight": True},
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": sorted({10, 25, 50, 100, page_size}),
            "animateRows": False,
            "enableCellTextSelection": True,
            "tooltipShowDelay": 300,
            "localeText": {"noRowsToShow": NO_DATA_MESSAGE},
            "domLayout": "autoHeight" if len(rows) <= page_size else "normal",
        },
        className="recruit-grid",
        style={"width": "100%", **({} if len(rows) <= page_size else {"height": "560px"})},
    )


def _raw(value: Any, display: str) -> Any:
    """A JSON-safe value for sorting and filtering."""
    plain = type(value)
    if display != "month" and (plain is str or plain is int or (plain is float and value == value)):
        return value  # most cells: nothing to convert (a float NaN is missing, below)
    if is_missing(value):
        return None
    if display == "month":
        return fmt_value(value, "month")
    if isinstance(value, pd.Timestamp | datetime | date):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, int | float | str):
        return value
    return str(value)
