-- Invoices every four weeks of a placement, for hours worked, never dated in the future.
insert into recruiting.invoices (placement_id, facility_id, amount, invoiced_at, paid_at)
select id, facility_id, amount, invoiced_at,
       case when invoiced_at + interval '1 day' * (10 + 40 * pg_temp.u(id * 4 + k, %(salt)s + 2))
                 <= %(now)s::timestamptz
            then invoiced_at + interval '1 day' * (10 + 40 * pg_temp.u(id * 4 + k, %(salt)s + 2)) end
from (
    select p.id, p.facility_id, k,
           round(p.bill_rate * (144 + floor(24 * pg_temp.u(p.id * 4 + k, %(salt)s + 1)))::numeric, 2) as amount,
           (p.start_date + 28 * k)::timestamp at time zone 'UTC' + interval '9 hours' as invoiced_at
    from recruiting.placements as p
    cross join generate_series(1, 3) as k
) as due
where invoiced_at <= %(now)s::timestamptz
order by id, k
