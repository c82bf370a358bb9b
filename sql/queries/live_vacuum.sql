-- Clear the dead rows of the change queues (data/live.py, vacuum_queues): every batch deletes what it applied.
vacuum (skip_locked) analytics.pipeline_changes, analytics.compliance_changes, analytics.revenue_changes,
    analytics.outreach_changes
