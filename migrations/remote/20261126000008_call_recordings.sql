-- Salesdesk team mode, step 8: call recordings as a synced table, so managers and admins see
-- their reps' recordings (the files themselves are in the `call-recordings` bucket, whose
-- policies in step 7 already let the owner write and managers and admins read).
--
-- The same bookkeeping columns and rules as call_analyses (steps 3 to 6): the owner reads and
-- writes their own rows, managers and admins read everyone's, nobody writes someone else's,
-- nobody deletes (a delete is a tombstone). Steps 3, 4 and 6 set up each synced table in a loop
-- over app.synced_tables; those loops already ran, so this step does the same for this one
-- table, statement for statement.

create table if not exists app.call_recordings (
    id           uuid primary key,
    owner_id     uuid not null default app.current_user_id(),
    analysis_id  uuid not null,
    -- Only files in the team's bucket are synced: a recording kept in one device's local file
    -- store is of no use to anyone else, so the app never pushes one.
    store        text not null default 'team' check (store = 'team'),
    -- The object path in `call-recordings`: `{owner id}/{sha256}/{slug}` (step 7's "owner").
    file_key     text not null check (pg_catalog.length(file_key) <= 1024 and file_key !~ '(^/|\.\.)'),
    file_name    text not null check (pg_catalog.length(file_name) between 1 and 255),
    file_size    bigint not null check (file_size > 0),
    file_sha256  text not null check (file_sha256 ~ '^[0-9a-f]{64}$'),
    mime_type    text not null,
    created_at   timestamptz not null default pg_catalog.now(),
    updated_at   timestamptz not null default pg_catalog.now(),
    deleted_at   timestamptz,
    change_xid   xid8 not null default pg_catalog.pg_current_xact_id()
);

-- A row may only name an object in its owner's own folder: a rep cannot point a row at a
-- teammate's file (which the bucket would let a manager read under the rep's name).
do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_constraint
        where conrelid = 'app.call_recordings'::regclass and conname = 'call_recordings_key_in_owner_folder'
    ) then
        alter table app.call_recordings add constraint call_recordings_key_in_owner_folder
            check (pg_catalog.split_part(file_key, '/', 1) = owner_id::text);
    end if;
end
$$;

create index if not exists call_recordings_by_analysis on app.call_recordings (analysis_id);

insert into app.synced_tables (name, write_rule, pushable) values
    ('call_recordings', 'owner', true)
on conflict (name) do update set write_rule = excluded.write_rule, pushable = excluded.pushable;

-- Step 3: the stamp trigger and the pull indexes.
drop trigger if exists stamp on app.call_recordings;
create trigger stamp before insert or update on app.call_recordings
    for each row execute function app_private.stamp_row();
create index if not exists call_recordings_pull on app.call_recordings (change_xid, id);
create index if not exists call_recordings_owner_pull on app.call_recordings (owner_id, change_xid, id);

-- Step 4: privileges and row-level security, the 'owner' rule.
alter table app.call_recordings enable row level security;
revoke all on app.call_recordings from public;
drop policy if exists salesdesk_read on app.call_recordings;
drop policy if exists salesdesk_create on app.call_recordings;
drop policy if exists salesdesk_modify on app.call_recordings;
grant select on app.call_recordings to salesdesk_app;
grant insert (id, analysis_id, store, file_key, file_name, file_size, file_sha256, mime_type,
              created_at, updated_at, deleted_at, owner_id)
    on app.call_recordings to salesdesk_app;
grant update (analysis_id, store, file_key, file_name, file_size, file_sha256, mime_type,
              updated_at, deleted_at)
    on app.call_recordings to salesdesk_app;
create policy salesdesk_read on app.call_recordings for select to salesdesk_app
    using (owner_id = (select app.current_user_id())
           or (select app.current_user_role()) in ('manager', 'admin'));
create policy salesdesk_create on app.call_recordings for insert to salesdesk_app
    with check (owner_id = (select app.current_user_id()));
create policy salesdesk_modify on app.call_recordings for update to salesdesk_app
    using (owner_id = (select app.current_user_id()))
    with check (owner_id = (select app.current_user_id()));

-- Step 6: change notices for the realtime pull.
drop trigger if exists notify_change on app.call_recordings;
create trigger notify_change after insert or update or delete on app.call_recordings
    for each statement execute function app_private.notify_change();
