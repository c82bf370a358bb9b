-- 009: sessions that end (issue 12). Every signed session cookie carries the user's `session_version` from when it
-- was issued; a request whose cookie holds another version is refused (auth/sessions.py). Sign-out bumps the
-- version (every copy of every session of that user ends), and so do these triggers on any change of password,
-- role, active flag or facility assignments, whoever makes it: the admin page, the CLI or plain SQL.
-- API tokens expire (`expires_at`, 1 to 365 days after creation, 90 by default); tokens that existed before this
-- migration get 90 days from now, so none stops working the moment it is applied.

alter table app.users add column session_version bigint not null default 1;

create function app.bump_session_version_on_user_change() returns trigger
language plpgsql as $$
begin
    if new.password_hash is distinct from old.password_hash
       or new.role is distinct from old.role
       or new.active is distinct from old.active then
        new.session_version := old.session_version + 1;
    end if;
    return new;
end
$$;

create trigger users_session_version
    before update of password_hash, role, active on app.users
    for each row execute function app.bump_session_version_on_user_change();

-- Facility assignments: one bump per user per statement (set-facilities deletes then inserts: two bumps).
create function app.bump_session_version_on_facility_change() returns trigger
language plpgsql as $$
begin
    update app.users set session_version = session_version + 1
    where id in (select user_id from changed_facilities);
    return null;
end
$$;

create trigger user_facilities_insert_session_version
    after insert on app.user_facilities referencing new table as changed_facilities
    for each statement execute function app.bump_session_version_on_facility_change();
create trigger user_facilities_delete_session_version
    after delete on app.user_facilities referencing old table as changed_facilities
    for each statement execute function app.bump_session_version_on_facility_change();
create trigger user_facilities_update_old_session_version
    after update on app.user_facilities referencing old table as changed_facilities
    for each statement execute function app.bump_session_version_on_facility_change();
create trigger user_facilities_update_new_session_version
    after update on app.user_facilities referencing new table as changed_facilities
    for each statement execute function app.bump_session_version_on_facility_change();

alter table app.api_tokens add column expires_at timestamptz;
update app.api_tokens set expires_at = now() + interval '90 days' where expires_at is null;
alter table app.api_tokens alter column expires_at set not null;
