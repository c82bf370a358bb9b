-- Compliance checks with their UTC month.
select facility_id,
       checked_month as month,
       passed,
       severity,
       score
from {{ source('recruiting', 'compliance_checks') }}
