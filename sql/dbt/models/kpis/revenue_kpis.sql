{{ config(alias='revenue_kpis_materialized', kpi_view='revenue', grain=['facility_id', 'month']) }}
-- docs/KPIS.md, "revenue"; the same formulas as analytics.revenue_kpis_live (sql/003_analytics_views.sql).
with monthly as (
    select facility_id,
           month,
           count(*)::bigint                     as invoices,
           count(distinct placement_id)::bigint as placements,
           sum(amount)                          as revenue
    from {{ ref('stg_invoices') }}
    group by facility_id, month
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
      and p.month = (m.month - interval '1 month')::date
