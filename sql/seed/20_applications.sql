-- Applications lo..hi: channel mix, a funnel with drop-off at every stage (referrals convert best), seasonality,
-- and stage timestamps that never lie in the future (what has not happened yet is still pending).
insert into recruiting.applications
    (id, candidate_id, facility_id, channel, applied_at, screened_at, interviewed_at, offered_at, hired_at,
     rejected_at)
select id, candidate_id, facility_id, channel, applied_at,
       case when lvl >= 1 and t1 <= %(now)s::timestamptz then t1 end,
       case when lvl >= 2 and t2 <= %(now)s::timestamptz then t2 end,
       case when lvl >= 3 and t3 <= %(now)s::timestamptz then t3 end,
       case when lvl >= 4 and t4 <= %(now)s::timestamptz then t4 end,
       case when lvl < 4 and rejects and t_reject <= %(now)s::timestamptz then t_reject end
from (
    select *,
           case lvl when 0 then applied_at when 1 then t1 when 2 then t2 else t3 end
               + interval '1 day' * (1 + 6 * u_delay) as t_reject
    from (
        select *,
               applied_at + interval '1 day' * (1 + 4 * u1) as t1,
               applied_at + interval '1 day' * (4 + 4 * u1 + 9 * u2) as t2,
               applied_at + interval '1 day' * (6 + 4 * u1 + 9 * u2 + 7 * u3) as t3,
               applied_at + interval '1 day' * (9 + 4 * u1 + 9 * u2 + 7 * u3 + 10 * u4) as t4,
               case when s1 >= 0.72 * q then 0
                    when s2 >= 0.58 * q then 1
                    when s3 >= 0.50 * q then 2
                    when s4 >= 0.78 then 3
                    else 4 end as lvl
        from (
            select g as id,
                   1 + floor(pg_temp.u(g, %(salt)s + 1) * %(candidates)s)::bigint as candidate_id,
                   pg_temp.facility_for(g, %(salt)s + 20, %(tiny_fraction)s, %(n_regular)s, %(n_tiny)s) as facility_id,
                   ch.channel, ch.q,
                   pg_temp.u(g, %(salt)s + 4) as u_time,
                   pg_temp.u(g, %(salt)s + 5) as s1, pg_temp.u(g, %(salt)s + 6) as s2,
                   pg_temp.u(g, %(salt)s + 7) as s3, pg_temp.u(g, %(salt)s + 8) as s4,
                   pg_temp.u(g, %(salt)s + 9) as u1, pg_temp.u(g, %(salt)s + 10) as u2,
                   pg_temp.u(g, %(salt)s + 11) as u3, pg_temp.u(g, %(salt)s + 12) as u4,
                   pg_temp.u(g, %(salt)s + 13) as u_delay,
                   pg_temp.u(g, %(salt)s + 14) < 0.85 as rejects
            from generate_series(%(lo)s::bigint, %(hi)s::bigint) as g
            cross join lateral (
                select case when x < 0.10 then 'referral' when x < 0.40 then 'job_board'
                            when x < 0.60 then 'email' when x < 0.72 then 'sms'
                            when x < 0.85 then 'phone' else 'direct' end as channel,
                       case when x < 0.10 then 1.30 when x < 0.40 then 0.80 when x < 0.60 then 0.95
                            when x < 0.72 then 0.90 when x < 0.85 then 1.05 else 1.10 end as q
                from (select pg_temp.u(g, %(salt)s + 3) as x) as draw
            ) as ch
            offset 0
        ) as draws
        cross join lateral (
            select pg_temp.seasonal_ts(draws.u_time, %(window_start)s, %(now)s, %(months)s) as applied_at
        ) as at
        offset 0
    ) as timed
) as staged
