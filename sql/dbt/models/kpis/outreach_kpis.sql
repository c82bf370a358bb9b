{{ config(alias='outreach_kpis_materialized', kpi_view='outreach', grain=['facility_id', 'month', 'channel']) }}
-- docs/KPIS.md, "outreach"; the same formulas as analytics.outreach_kpis_live (sql/003_analytics_views.sql).
select facility_id,
       month,
       channel,
       count(*)::bigint                                                  as sent,
       count(responded_at)::bigint                                       as responded,
       count(converted_application_id)::bigint                           as converted,
       count(responded_at)::float8 / count(*)                            as response_rate,
       count(converted_application_id)::float8 / count(*)                as conversion_rate
from {{ ref('stg_outreach') }}
group by facility_id, month, channel
