-- Outreach KPIs at the facility x month x channel grain; null parameters mean "no narrowing".
select facility_id, month, channel, sent, responded, converted, response_rate, conversion_rate
from analytics.outreach_kpis_materialized
where (%(facility_ids)s::int[] is null or facility_id = any(%(facility_ids)s::int[]))
  and (%(start)s::date is null or month >= %(start)s::date)
  and (%(end)s::date is null or month <= %(end)s::date)
  and (%(channel)s::text is null or channel = %(channel)s::text)
order by facility_id, month, channel
