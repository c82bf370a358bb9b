{{ config(alias='compliance_kpis_materialized', kpi_view='compliance', grain=['facility_id', 'month']) }}
-- docs/KPIS.md, "compliance"; the same formulas as analytics.compliance_kpis_live (sql/003_analytics_views.sql).
select facility_id,
       month,
       count(*)::bigint                                             as checks,
       count(*) filter (where passed)::bigint                       as passed,
       count(*) filter (where not passed)::bigint                   as failed,
       count(*) filter (where severity = 'low')::bigint             as violations_low,
       count(*) filter (where severity = 'medium')::bigint          as violations_medium,
       count(*) filter (where severity = 'high')::bigint            as violations_high,
       count(*) filter (where severity = 'critical')::bigint        as violations_critical,
       avg(score)::float8                                           as avg_score,
       (count(*) filter (where passed))::float8 / count(*)          as compliance_rate,
       sum(score)::numeric                                          as score_total
from {{ ref('stg_compliance_checks') }}
group by facility_id, month
