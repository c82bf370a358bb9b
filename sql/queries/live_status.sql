-- Per view: what its store reflects, the changes waiting in its queue, and its latest batch (data/live.py).
-- "as of" falls back to the refresh history for databases refreshed before live refresh existed (migration 006).
with queue as (
    select 'pipeline' as view, count(*) as depth, min(captured_at) as oldest from analytics.pipeline_changes
    union all
    select 'compliance', count(*), min(captured_at) from analytics.compliance_changes
    union all
    select 'revenue', count(*), min(captured_at) from analytics.revenue_changes
    union all
    select 'outreach', count(*), min(captured_at) from analytics.outreach_changes
)
select q.view,
       coalesce(b.data_as_of, (select max(r.finished_at) from app.refresh_runs r
                               where r.view = q.view and r.status = 'succeeded')) as as_of,
       q.depth,
       coalesce(greatest(0, extract(epoch from clock_timestamp() - q.oldest)), 0)::float8 as lag_seconds,
       b.finished_at,
       b.kind,
       b.changes,
       b.groups,
       b.duration_ms
from queue q
left join lateral (
    select * from app.live_batches b where b.view = q.view order by b.id desc limit 1
) b on true
