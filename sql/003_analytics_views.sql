-- 003: KPI datasets at the facility x month grain (their formulas in words: docs/KPIS.md).
-- Each dataset is a live view (the formula, computed on the fly) and a materialized view of exactly that live view,
-- with a unique index on the grain so it can be refreshed CONCURRENTLY (a plain refresh blocks every reader).
-- Months are calendar months in UTC, taken from the generated *_month columns of migration 001.
create schema if not exists analytics;

create view analytics.pipeline_kpis_live as
select facility_id,
       applied_month                                                           as month,
       count(*)::bigint                                                        as applications,
       count(screened_at)::bigint                                              as screened,
       count(interviewed_at)::bigint                                           as interviewed,
       count(offered_at)::bigint                                               as offered,
       count(hired_at)::bigint                                                 as hired,
       count(rejected_at)::bigint                                              as rejected,
       (count(*) - count(hired_at) - count(rejected_at))::bigint               as pending,
       count(hired_at)::float8 / count(*)                                      as conversion_rate,
       (avg(extract(epoch from hired_at - applied_at)) / 86400.0)::float8      as time_to_fill_days
from recruiting.applications
group by facility_id, applied_month;

create view analytics.compliance_kpis_live as
select facility_id,
       checked_month                                                as month,
       count(*)::bigint                                             as checks,
       count(*) filter (where passed)::bigint                       as passed,
       count(*) filter (where not passed)::bigint                   as failed,
       count(*) filter (where severity = 'low')::bigint             as violations_low,
       count(*) filter (where severity = 'medium')::bigint          as violations_medium,
       count(*) filter (where severity = 'high')::bigint            as violations_high,
       count(*) filter (where severity = 'critical')::bigint        as violations_critical,
       avg(score)::float8                                           as avg_score,
       (count(*) filter (where passed))::float8 / count(*)          as compliance_rate
from recruiting.compliance_checks
group by facility_id, checked_month;

create view analytics.revenue_kpis_live as
with monthly as (
    select facility_id,
           invoiced_month                       as month,
           count(*)::bigint                     as invoices,
           count(distinct placement_id)::bigint as placements,
           sum(amount)                          as revenue
    from recruiting.invoices
    group by facility_id, invoiced_month
)
select m.facility_id,
       m.month,
       m.invoices,
       m.placements,
       m.revenue::numeric(14, 2)                                              as revenue,
       round(m.revenue / m.invoices, 2)                                       as avg_invoice,
       round(m.revenue / nullif(m.placements, 0), 2)                          as revenue_per_placement,
       ((m.revenue - p.revenue) / nullif(p.revenue, 0))::float8               as mom_growth
from monthly m
left join monthly p
       on p.facility_id = m.facility_id
      and p.month = (m.month - interval '1 month')::date;

create view analytics.outreach_kpis_live as
select facility_id,
       sent_month                                                        as month,
       channel,
       count(*)::bigint                                                  as sent,
       count(responded_at)::bigint                                       as responded,
       count(converted_application_id)::bigint                           as converted,
       count(responded_at)::float8 / count(*)                            as response_rate,
       count(converted_application_id)::float8 / count(*)                as conversion_rate
from recruiting.outreach
group by facility_id, sent_month, channel;

create materialized view analytics.pipeline_kpis_materialized as select * from analytics.pipeline_kpis_live;
create materialized view analytics.compliance_kpis_materialized as select * from analytics.compliance_kpis_live;
create materialized view analytics.revenue_kpis_materialized as select * from analytics.revenue_kpis_live;
create materialized view analytics.outreach_kpis_materialized as select * from analytics.outreach_kpis_live;

create unique index pipeline_kpis_grain_idx on analytics.pipeline_kpis_materialized (facility_id, month);
create unique index compliance_kpis_grain_idx on analytics.compliance_kpis_materialized (facility_id, month);
create unique index revenue_kpis_grain_idx on analytics.revenue_kpis_materialized (facility_id, month);
-- outreach.channel is not null in the operational table, so (facility_id, month, channel) is a real key.
create unique index outreach_kpis_grain_idx on analytics.outreach_kpis_materialized (facility_id, month, channel);

create function analytics.refresh_pipeline_kpis() returns void language sql as
$$ refresh materialized view concurrently analytics.pipeline_kpis_materialized $$;
create function analytics.refresh_compliance_kpis() returns void language sql as
$$ refresh materialized view concurrently analytics.compliance_kpis_materialized $$;
create function analytics.refresh_revenue_kpis() returns void language sql as
$$ refresh materialized view concurrently analytics.revenue_kpis_materialized $$;
create function analytics.refresh_outreach_kpis() returns void language sql as
$$ refresh materialized view concurrently analytics.outreach_kpis_materialized $$;
create function analytics.refresh_all_analytics() returns void language plpgsql as
$$
begin
    perform analytics.refresh_pipeline_kpis();
    perform analytics.refresh_compliance_kpis();
    perform analytics.refresh_revenue_kpis();
    perform analytics.refresh_outreach_kpis();
end
$$;
