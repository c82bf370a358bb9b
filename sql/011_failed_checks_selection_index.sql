-- 011: the violations drill-down for a few facilities. Migration 004's index (failed checks, newest first) serves a
-- selection of many facilities: PostgreSQL walks it in order and stops after the newest 500. For three facilities
-- out of 200 it combined that index with the facility-month one and read every failed check's heap page of the
-- selection's months: 0.7-1.2 s at 10M checks. This index holds only failed checks, by facility and month, so such a
-- selection reads just its own (about 4,500 at 10M for three facilities and twelve months), sorts them and keeps the
-- newest 500: about 0.1 s from a cold cache, most of it the candidates' contact details.

create index compliance_failed_selection_idx on recruiting.compliance_checks (facility_id, checked_month)
    where not passed;
