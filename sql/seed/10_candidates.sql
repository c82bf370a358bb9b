-- Candidates lo..hi with plausible names and contact details.
insert into recruiting.candidates (id, first_name, last_name, email, phone, specialty, created_at)
select g,
       fn,
       ln,
       lower(fn || '.' || ln || '.' || g || '@example.com'),
       '555-' || lpad((floor(pg_temp.u(g, %(salt)s + 3) * 10000000))::int::text, 7, '0'),
       (array['Registered Nurse', 'Licensed Practical Nurse', 'Certified Nursing Assistant', 'Physical Therapist',
              'Respiratory Therapist', 'Radiology Technologist', 'Pharmacist', 'Medical Assistant',
              'Nurse Practitioner', 'Surgical Technologist'])[1 + floor(pg_temp.u(g, %(salt)s + 4) * 10)::int],
       %(window_start)s::timestamptz - interval '90 days'
           + (%(now)s::timestamptz - %(window_start)s::timestamptz + interval '90 days') * pg_temp.u(g, %(salt)s + 5)
from (
    select g,
           (array['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David',
                  'Elizabeth', 'Maria', 'Aisha', 'Wei', 'Priya', 'Carlos', 'Fatima', 'Olga', 'Kwame', 'Yuki',
                  'Ahmed'])[1 + floor(pg_temp.u(g, %(salt)s + 1) * 20)::int] as fn,
           (array['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez',
                  'Martinez', 'Nguyen', 'Patel', 'Kim', 'Okafor', 'Cohen', 'Silva', 'Ivanova', 'Mensah', 'Tanaka',
                  'Hassan'])[1 + floor(pg_temp.u(g, %(salt)s + 2) * 20)::int] as ln
    from generate_series(%(lo)s::bigint, %(hi)s::bigint) as g
) as names
