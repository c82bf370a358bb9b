-- Outreach lo..hi: channels differ in volume, response and conversion; some responses become applications.
insert into recruiting.outreach
    (id, candidate_id, facility_id, channel, sent_at, responded_at, converted_application_id)
select id, candidate_id, facility_id, channel, sent_at,
       case when responded and sent_at + interval '1 hour' * (2 + 120 * u_delay) <= %(now)s::timestamptz
            then sent_at + interval '1 hour' * (2 + 120 * u_delay) end,
       case when responded and converts then 1 + floor(u_app * %(applications)s)::bigint end
from (
    select g as id,
           1 + floor(pg_temp.u(g, %(salt)s + 1) * %(candidates)s)::bigint as candidate_id,
           pg_temp.facility_for(g, %(salt)s + 20, %(tiny_fraction)s, %(n_regular)s, %(n_tiny)s) as facility_id,
           ch.channel,
           pg_temp.u(g, %(salt)s + 4) < ch.p_respond as responded,
           pg_temp.u(g, %(salt)s + 5) < ch.p_convert as converts,
           pg_temp.u(g, %(salt)s + 6) as u_delay,
           pg_temp.u(g, %(salt)s + 7) as u_app,
           pg_temp.seasonal_ts(ch.u_time, %(window_start)s, %(now)s, %(months)s) as sent_at
    from generate_series(%(lo)s::bigint, %(hi)s::bigint) as g
    cross join lateral (
        select case when x < 0.40 then 'email' when x < 0.65 then 'sms' when x < 0.80 then 'phone'
                    when x < 0.92 then 'job_board' else 'referral' end as channel,
               case when x < 0.40 then 0.12 when x < 0.65 then 0.22 when x < 0.80 then 0.35
                    when x < 0.92 then 0.08 else 0.50 end as p_respond,
               u_time,
               case when x < 0.40 then 0.20 when x < 0.65 then 0.25 when x < 0.80 then 0.30
                    when x < 0.92 then 0.15 else 0.45 end as p_convert
        from (select pg_temp.u(g, %(salt)s + 3) as x, pg_temp.u(g, %(salt)s + 8) as u_time offset 0) as draw
    ) as ch
) as draws
