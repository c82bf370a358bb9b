-- Revenue KPIs at the facility x month grain; null parameters mean "no narrowing".
select facility_id, month, invoices, placements, revenue, avg_invoice, revenue_per_placement, mom_growth
from analytics.revenue_kpis_materialized
where (%(facility_ids)s::int[] is null or facility_id = any(%(facility_ids)s::int[]))
  and (%(start)s::date is null or month >= %(start)s::date)
  and (%(end)s::date is null or month <= %(end)s::date)
order by facility_id, month
