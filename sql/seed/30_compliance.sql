-- Compliance checks lo..hi: each facility has its own pass rate; failures carry all four severities.
insert into recruiting.compliance_checks
    (id, candidate_id, facility_id, check_type, passed, score, severity, checked_at, expires_at)
select id, candidate_id, facility_id, check_type, passed,
       round((case when passed then 70 + 30 * u_score else 15 + 55 * u_score end)::numeric, 2),
       case when passed then null
            when u_sev < 0.45 then 'low' when u_sev < 0.75 then 'medium'
            when u_sev < 0.93 then 'high' else 'critical' end,
       checked_at,
       checked_at + interval '1 year'
from (
    select g as id,
           1 + floor(pg_temp.u(g, %(salt)s + 1) * %(candidates)s)::bigint as candidate_id,
           f.facility_id,
           (array['license', 'background', 'drug_screen', 'immunization', 'cpr_certification',
                  'i9_verification'])[1 + floor(pg_temp.u(g, %(salt)s + 3) * 6)::int] as check_type,
           pg_temp.u(g, %(salt)s + 4) < 0.80 + 0.17 * pg_temp.u(f.facility_id, %(salt)s + 99) as passed,
           pg_temp.u(g, %(salt)s + 5) as u_score,
           pg_temp.u(g, %(salt)s + 6) as u_sev,
           pg_temp.seasonal_ts(t.u_time, %(window_start)s, %(now)s, %(months)s) as checked_at
    from generate_series(%(lo)s::bigint, %(hi)s::bigint) as g
    cross join lateral (
        select pg_temp.facility_for(g, %(salt)s + 20, %(tiny_fraction)s, %(n_regular)s, %(n_tiny)s) as facility_id,
               pg_temp.u(g, %(salt)s + 7) as u_time
        offset 0
    ) as f
    cross join lateral (select f.u_time) as t
) as draws
