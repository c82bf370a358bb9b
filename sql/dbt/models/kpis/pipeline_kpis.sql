{{ config(alias='pipeline_kpis_materialized', kpi_view='pipeline', grain=['facility_id', 'month']) }}
-- docs/KPIS.md, "pipeline"; the same formulas as analytics.pipeline_kpis_live (sql/003_analytics_views.sql).
select facility_id,
       month,
       count(*)::bigint                                                        as applications,
       count(screened_at)::bigint                                              as screened,
       count(interviewed_at)::bigint                                           as interviewed,
       count(offered_at)::bigint                                               as offered,
       count(hired_at)::bigint                                                 as hired,
       count(rejected_at)::bigint                                              as rejected,
       (count(*) - count(hired_at) - count(rejected_at))::bigint               as pending,
       count(hired_at)::float8 / count(*)                                      as conversion_rate,
       (avg(extract(epoch from hired_at - applied_at)) / 86400.0)::float8      as time_to_fill_days,
       coalesce(sum(extract(epoch from hired_at - applied_at)), 0)::numeric    as fill_seconds
from {{ ref('stg_applications') }}
group by facility_id, month
