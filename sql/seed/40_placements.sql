-- One placement per hire, starting two weeks after the hire, for a 13-week assignment.
insert into recruiting.placements (application_id, facility_id, start_date, end_date, bill_rate, pay_rate)
select id, facility_id, start_date, start_date + 91, bill_rate, round(bill_rate * 0.72, 2)
from (
    select id, facility_id,
           (hired_at at time zone 'UTC')::date + 14 as start_date,
           round((55 + 90 * pg_temp.u(id, %(salt)s + 1))::numeric, 2) as bill_rate
    from recruiting.applications
    where hired_at is not null
) as hires
order by id
