-- Clear the dead rows of the change queues and the KPI stores (data/live.py, vacuum_live_tables): every batch deletes the
-- queue rows it applied and rewrites the store rows they change.
vacuum (skip_locked) analytics.pipeline_changes, analytics.compliance_changes, analytics.revenue_changes,
    analytics.outreach_changes, analytics.pipeline_kpis_materialized, analytics.compliance_kpis_materialized,
    analytics.revenue_kpis_materialized, analytics.outreach_kpis_materialized
