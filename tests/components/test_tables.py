import dash_ag_grid as dag

from components import tables
from components.tables import Column


def test_rows_keep_raw_values_and_formatted_text(revenue_df):
    rows = tables.table_rows(revenue_df, tables.REVENUE_COLUMNS)
    jan, feb, mar = rows
    assert jan["month"] == "2026-01" and jan["revenue"] == 120000.5
    assert jan["revenue__text"] == "$120,000.50" and jan["placements__text"] == "10"
    assert feb["revenue"] is None and feb["revenue__text"] == "suppressed"
    assert feb["placements__text"] == "suppressed"  # never 0
    assert jan["mom_growth"] is None and jan["mom_growth__text"] == ""  # undefined, not suppressed
    assert mar["mom_growth__text"] == "suppressed"


def test_column_defs_format_and_style_suppressed_cells():
    defs = tables.column_defs([Column("applications", "Applications", "int"), Column("facility_name", "Facility")])
    apps, facility = defs
    assert apps["valueFormatter"] == {"function": "params.data.applications__text"}
    assert apps["cellClassRules"]["cell-suppressed"] == "params.data.applications__text === 'suppressed'"
    assert apps["type"] == "rightAligned" and apps["filter"] == "agNumberColumnFilter"
    assert facility["filter"] == "agTextColumnFilter" and "type" not in facility


def test_data_table_uses_ag_grid_and_notes_suppression(pipeline_df):
    card = tables.data_table(pipeline_df, columns=tables.PIPELINE_COLUMNS, table_id="pipeline-table", threshold=5)
    grid, note = card.children
    assert isinstance(grid, dag.AgGrid) and grid.id == "pipeline-table"
    assert grid.dashGridOptions["pagination"] is True
    assert grid.rowData[1]["hired__text"] == "suppressed"
    assert grid.rowData[0]["conversion_rate__text"] == "12.5%"
    assert grid.rowData[0]["time_to_fill_days__text"] == "21.5 days"
    assert "suppressed: fewer than 5" in note.children


def test_data_table_without_suppression_has_no_note(outreach_df):
    card = tables.data_table(outreach_df.iloc[:2], columns=tables.OUTREACH_COLUMNS)
    assert len(card.children) == 1


def test_redacted_pii_is_text_and_styled_muted():
    import pandas as pd

    df = pd.DataFrame({"first_name": ["[redacted]"], "checked_at": [pd.Timestamp("2026-11-29 14:00", tz="UTC")]})
    rows = tables.table_rows(df, [Column("first_name", "First"), Column("checked_at", "At", "datetime")])
    assert rows[0]["first_name__text"] == "[redacted]"
    assert rows[0]["checked_at__text"] == "2026-11-29 14:00 UTC"
    assert rows[0]["checked_at"].startswith("2026-11-29T14:00")
