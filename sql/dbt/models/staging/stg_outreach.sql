-- Outreach messages with their UTC month.
select facility_id,
       sent_month as month,
       channel,
       responded_at,
       converted_application_id
from {{ source('recruiting', 'outreach') }}
