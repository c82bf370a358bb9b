-- Record-level failed compliance checks with the candidate's contact details (the view_pii drill-down).
select c.facility_id, f.name as facility_name, c.checked_month as month, c.check_type, c.severity,
       c.checked_at, c.expires_at, p.first_name, p.last_name, p.email, p.phone
from recruiting.compliance_checks c
join recruiting.facilities f on f.id = c.facility_id
left join recruiting.candidates p on p.id = c.candidate_id
where not c.passed
  and c.facility_id = any(%(facility_ids)s::int[])
  and c.checked_month between %(start)s::date and %(end)s::date
order by c.checked_at desc, c.id
limit %(limit)s
