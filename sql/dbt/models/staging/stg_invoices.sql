-- Invoices with their UTC month.
select facility_id,
       invoiced_month as month,
       placement_id,
       amount
from {{ source('recruiting', 'invoices') }}
