-- 004: the violations drill-down lists the newest failed checks of a selection. With this partial index (failed
-- checks only, newest first) PostgreSQL reads them in order and stops at the limit: 4 ms instead of sorting every
-- failed check of the selection (about 100 ms at 1M checks, seconds at 10M).
create index compliance_failed_recent_idx on recruiting.compliance_checks (checked_at desc) where not passed;
