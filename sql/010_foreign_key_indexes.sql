-- 010: an index on the one foreign key that had none. Deleting an application makes PostgreSQL look for outreach
-- messages that converted into it; without an index that is a scan of the whole outreach table per deleted
-- application (seconds each at 10M applications and 30M messages). Only converted messages point anywhere, so the
-- index holds just those rows. Building it blocks writes to recruiting.outreach while it runs (about 10 s at 30M
-- messages); tests/data/test_migrations.py checks that every foreign key of the event tables has an index.

create index outreach_converted_application_idx on recruiting.outreach (converted_application_id)
    where converted_application_id is not null;
