-- Applications with their UTC month (the stored generated column of migration 001).
select facility_id,
       applied_month as month,
       applied_at,
       screened_at,
       interviewed_at,
       offered_at,
       hired_at,
       rejected_at
from {{ source('recruiting', 'applications') }}
