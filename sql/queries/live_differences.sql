-- Rows in which each KPI store differs from its live view (the formulas computed from the raw rows, compared exactly):
-- 0 everywhere means every store equals a full recompute, row for row (data/live.py: verification, tests, bench).
select 'pipeline' as view, count(*) as differing_rows
from ((select facility_id, month, applications, screened, interviewed, offered, hired, rejected, pending,
              conversion_rate, time_to_fill_days
       from analytics.pipeline_kpis_materialized
       except all
       select * from analytics.pipeline_kpis_live)
      union all
      (select * from analytics.pipeline_kpis_live
       except all
       select facility_id, month, applications, screened, interviewed, offered, hired, rejected, pending,
              conversion_rate, time_to_fill_days
       from analytics.pipeline_kpis_materialized)) d
union all
select 'compliance', count(*)
from ((select facility_id, month, checks, passed, failed, violations_low, violations_medium, violations_high,
              violations_critical, avg_score, compliance_rate
       from analytics.compliance_kpis_materialized
       except all
       select * from analytics.compliance_kpis_live)
      union all
      (select * from analytics.compliance_kpis_live
       except all
       select facility_id, month, checks, passed, failed, violations_low, violations_medium, violations_high,
              violations_critical, avg_score, compliance_rate
       from analytics.compliance_kpis_materialized)) d
union all
select 'revenue', count(*)
from ((select * from analytics.revenue_kpis_materialized except all select * from analytics.revenue_kpis_live)
      union all
      (select * from analytics.revenue_kpis_live except all select * from analytics.revenue_kpis_materialized)) d
union all
select 'outreach', count(*)
from ((select * from analytics.outreach_kpis_materialized except all select * from analytics.outreach_kpis_live)
      union all
      (select * from analytics.outreach_kpis_live except all select * from analytics.outreach_kpis_materialized)) d
