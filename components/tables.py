"""Data tables (dash-ag-grid) with formatted columns; suppressed cells read "suppressed", never 0."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import html

from components.cells import PARTIAL, hidden
from components.formatting import (
    NO_DATA_MESSAGE,
    SUPPRESSED_TEXT,
    Kind,
    fmt_value,
    is_missing,
    suppression_note,
)

REDACTED = "[redacted]"
TEXT_SUFFIX = "__text"
NUMERIC_KINDS = frozenset({"int", "percent", "currency", "days", "score"})
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Column:
    """One table column: the frame field, its header and how to format it."""

    field: str
    header: str
    kind: Kind = "text"
    pinned: bool = False
    min_width: int | None = None


_FACILITY = (
    Column("facility_name", "Facility", "text", pinned=True, min_width=160),
    Column("month", "Month", "month"),
)

PIPELINE_COLUMNS = (
    *_FACILITY,
    Column("applications", "Applications", "int"),
    Column("screened", "Screened", "int"),
    Column("interviewed", "Interviewed", "int"),
    Column("offered", "Offered", "int"),
    Column("hired", "Hired", "int"),
    Column("rejected", "Rejected", "int"),
    Column("pending", "Pending", "int"),
    Column("conversion_rate", "Hire rate", "percent"),
    Column("time_to_fill_days", "Time to fill", "days"),
)
COMPLIANCE_COLUMNS = (
    *_FACILITY,
    Column("checks", "Checks", "int"),
    Column("passed", "Passed", "int"),
    Column("failed", "Failed", "int"),
    Column("violations_low", "Low", "int"),
    Column("violations_medium", "Medium", "int"),
    Column("violations_high", "High", "int"),
    Column("violations_critical", "Critical", "int"),
    Column("avg_score", "Avg score", "score"),
    Column("compliance_rate", "Compliance rate", "percent"),
)
REVENUE_COLUMNS = (
    *_FACILITY,
    Column("invoices", "Invoices", "int"),
    Column("placements", "Placements", "int"),
    Column("revenue", "Revenue", "currency"),
    Column("avg_invoice", "Avg invoice", "currency"),
    Column("revenue_per_placement", "Revenue / placement", "currency"),
    Column("mom_growth", "MoM growth", "percent"),
)
OUTREACH_COLUMNS = (
    *_FACILITY,
    Column("channel", "Channel", "text"),
    Column("sent", "Sent", "int"),
    Column("responded", "Responded", "int"),
    Column("converted", "Converted", "int"),
    Column("response_rate", "Response rate", "percent"),
    Column("conversion_rate", "Conversion rate", "percent"),
)
VIOLATION_COLUMNS = (
    *_FACILITY,
    Column("check_type", "Check"),
    Column("severity", "Severity"),
    Column("checked_at", "Checked at", "datetime"),
    Column("expires_at", "Expires at", "datetime"),
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("email", "Email"),
    Column("phone", "Phone"),
)
DATASET_COLUMNS: dict[str, tuple[Column, ...]] = {
    "pipeline": PIPELINE_COLUMNS,
    "compliance": COMPLIANCE_COLUMNS,
    "revenue": REVENUE_COLUMNS,
    "outreach": OUTREACH_COLUMNS,
    "violations": VIOLATION_COLUMNS,
}


def _text_ref(field: str) -> str:
    key = f"{field}{TEXT_SUFFIX}"
    return f"params.data.{key}" if _IDENTIFIER.match(key) else f"params.data[{key!r}]"


def column_defs(columns: Sequence[Column]) -> list[dict[str, Any]]:
    """AG Grid column definitions: the grid sorts and filters raw values and shows the preformatted text."""
    defs = []
    for column in columns:
        text = _text_ref(column.field)
        numeric = column.kind in NUMERIC_KINDS
        definition: dict[str, Any] = {
            "field": column.field,
            "headerName": column.header,
            "valueFormatter": {"function": text},
            "cellClassRules": {
                "cell-suppressed": f"{text} === '{SUPPRESSED_TEXT}'",
                "cell-redacted": f"{text} === '{REDACTED}'",
            },
            "filter": "agNumberColumnFilter" if numeric else "agTextColumnFilter",
        }
        if numeric:
            definition["type"] = "rightAligned"
        if column.pinned:
            definition["pinned"] = "left"
        if column.min_width:
            definition["minWidth"] = column.min_width
        defs.append(definition)
    return defs


def table_rows(df: pd.DataFrame, columns: Sequence[Column]) -> list[dict[str, Any]]:
    """Grid rows: each field's JSON-safe raw value and `<field>__text`, its display or 'suppressed'."""
    records: list[dict[str, Any]] = [{} for _ in range(len(df))]
    for column in columns:
        values = df[column.field] if column.field in df.columns else pd.Series(None, index=df.index, dtype=object)
        gone = hidden(df, column.field).to_numpy()
        for i, (value, is_gone) in enumerate(zip(values, gone, strict=True)):
            records[i][column.field] = _raw(value, column.kind)
            records[i][f"{column.field}{TEXT_SUFFIX}"] = _text(value, column.kind, bool(is_gone))
    if PARTIAL in df.columns:
        for record, partial in zip(records, df[PARTIAL].fillna(False), strict=True):
            record[PARTIAL] = bool(partial)
    return records


def data_table(
    df: pd.DataFrame,
    *,
    columns: Sequence[Column],
    table_id: str | None = None,
    threshold: int | None = None,
    page_size: int = 25,
    height: int = 480,
) -> html.Div:
    """An AG Grid of `df` with formatted columns and a note when any shown cell is suppressed."""
    rows = table_rows(df, columns)
    grid_id = {"id": table_id} if table_id else {}
    grid = dag.AgGrid(
        rowData=rows,
        columnDefs=column_defs(columns),
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 96},
        columnSize="responsiveSizeToFit",
        rowClassRules={"row-partial": f"params.data.{PARTIAL} === true"},
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": sorted({10, 25, 50, 100, page_size}),
            "animateRows": False,
            "enableCellTextSelection": True,
            "localeText": {"noRowsToShow": NO_DATA_MESSAGE},
        },
        csvExportParams={"fileName": f"{table_id or 'table'}.csv"},
        className="recruit-grid",
        style={"height": f"{height}px", "width": "100%"},
        **grid_id,
    )
    children: list[Any] = [grid]
    if any(record.get(f"{c.field}{TEXT_SUFFIX}") == SUPPRESSED_TEXT for record in rows for c in columns):
        note = f'{suppression_note(threshold)}: shown as "suppressed", not 0' if threshold else "some cells suppressed"
        children.append(html.P(note, className="table-note"))
    return html.Div(children, className="table-card")


def _text(value: Any, kind: Kind, suppressed: bool) -> str:
    if suppressed:
        return SUPPRESSED_TEXT
    if is_missing(value):
        return ""
    return fmt_value(value, kind)


def _raw(value: Any, kind: Kind) -> Any:
    """A JSON-safe value for sorting and filtering."""
    if is_missing(value):
        return None
    if kind == "month":
        return fmt_value(value, "month")
    if isinstance(value, pd.Timestamp | datetime | date):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, int | float | str):
        return value
    return str(value)
