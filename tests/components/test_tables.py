"""components/tables.py: columns from the schema, cells from the totals contract, record tables."""

from __future__ import annotations

import pandas as pd

from components.tables import COMPLETE, STATE_SUFFIX, TEXT_SUFFIX, column_defs, record_table, totals_rows, totals_table
from data.specs import COMPLIANCE, DRILLDOWN, PIPELINE

from .conftest import FACILITY, K, compliance_row, pipeline_row, totals

COLUMNS = tuple(PIPELINE.column(n) for n in ("applications", "hired", "conversion_rate", "time_to_fill_days"))


def test_headers_and_formats_come_from_the_schema() -> None:
    defs = column_defs(COLUMNS, marker=True)
    assert [d["headerName"] for d in defs] == ["Facility", "Complete?", "Applications", "Hires", "Hire rate",
                                               "Time to fill"]
    assert defs[0]["tooltipField"] == "label" and defs[0]["wrapText"]  # long names can be read
    assert defs[2]["type"] == "rightAligned"


def test_cells_follow_the_contract() -> None:
    data = totals(PIPELINE, [pipeline_row(1, 0, hired=20, rejected=40, pending=40),
                             pipeline_row(2, 0, hired=0, rejected=10, pending=10),
                             pipeline_row(3, 0, hired=2, rejected=2, pending=1)], FACILITY)
    rows = totals_rows(data, COLUMNS, labels=["North", "South", "East"])
    north, south, east = rows
    assert north["hired"] == 20 and north[f"hired{TEXT_SUFFIX}"] == "20" and north[COMPLETE] == "yes"
    assert south[f"time_to_fill_days{TEXT_SUFFIX}"] == "" and south[f"time_to_fill_days{STATE_SUFFIX}"] == "undefined"
    assert south[COMPLETE] == "yes"  # undefined is not a hidden number
    assert east[f"hired{TEXT_SUFFIX}"] == "hidden" and east["hired"] is None
    assert east[COMPLETE].endswith("partial")


def test_a_partial_row_reads_as_a_range_with_a_legend() -> None:
    months = [(10, (1, 1, 0, 0)), (12, (0, 0, 0, 0)), (5, (2, 1, 0, 0))]
    data = totals(COMPLIANCE, [compliance_row(1, m, passed=p, low=lv[0], medium=lv[1]) for m, (p, lv) in
                               enumerate(months)], FACILITY)
    rate = COMPLIANCE.column("compliance_rate")
    (row,) = totals_rows(data, (rate,), labels=["North"])
    assert row[f"compliance_rate{STATE_SUFFIX}"] == "range" and " to " in row[f"compliance_rate{TEXT_SUFFIX}"]
    table = totals_table(data, (rate,), table_id="t", threshold=K)
    note = table.children[1]
    assert "partial" in str(note.children[0]) and note.children[1].href == "/privacy"


def test_record_table_writes_check_types_and_severities_in_words() -> None:
    frame = pd.DataFrame([{"facility_id": 1, "facility_name": "North", "month": pd.Timestamp("2026-03-01"),
                           "check_type": "cpr_certification", "severity": "high",
                           "checked_at": pd.Timestamp("2026-03-02T10:00Z"), "expires_at": None,
                           "first_name": "Ana", "last_name": "Ruiz", "email": "a@x.org", "phone": None}])
    grid = record_table(frame, DRILLDOWN, table_id="v").children
    (row,) = grid.rowData
    assert row["check_type__text"] == "CPR certification" and row["severity__text"] == "High"
    assert row["phone__text"] == "" and row["checked_at__text"] == "2026-03-02 10:00 UTC"


def test_long_headers_and_values_wrap_instead_of_being_cut() -> None:
    data = totals(PIPELINE, [pipeline_row(1, 0, hired=20, rejected=40, pending=40)], FACILITY)
    grid = totals_table(data, COLUMNS, table_id="g", threshold=K).children[0]
    wrapping = {"wrapHeaderText", "autoHeaderHeight", "wrapText", "autoHeight"}
    assert all(grid.defaultColDef[key] is True for key in wrapping)
    assert all(d.get("headerTooltip") or d.get("tooltipField") or d["field"] == COMPLETE
               for d in grid.columnDefs)  # and every header and facility name has its tooltip
