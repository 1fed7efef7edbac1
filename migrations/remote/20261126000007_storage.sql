-- Salesdesk team mode, step 7: the Storage buckets and who may read and write their files.
--
-- Supabase Storage keeps one row per file in storage.objects and checks every request against
-- that table's row-level security, running its queries as the role `authenticated` with the
-- caller's verified JWT claims in request.jwt.claims (that is what auth.uid() and auth.jwt()
-- read there). The desktop app's own role, salesdesk_app, never touches these tables and cannot
-- become `authenticated`, so a user holding the app password gains nothing here.
--
--   bucket               size limit  types                    read                      write
--   training-materials   500 MiB     any                      every signed-in user      admins
--   call-recordings      2 GiB       audio, video, captions   owner; managers, admins   owner
--   generated-images     20 MiB      images                   owner; managers, admins   owner
--   user-avatars         5 MiB       png, jpeg, webp, gif     every signed-in user      owner
--
-- "Owner" = the first folder of the object's path is the user's id ({user id}/...), which is
-- how the app names these files. Team roles come from app.profiles (never from a claim) through
-- app_storage.caller_role(), which also requires the token's session to be live: signing out
-- (deleting the session) ends Storage access at once, as it does for the database.
--
-- The limits here are the ones the app checks before sending a byte (StorageConfig::new in
-- crates/core/src/files/supabase.rs); a test keeps the two equal. On the Free plan Supabase
-- caps every upload at 50 MB whatever the bucket says: raise the project's global limit for
-- large materials and recordings.
--
-- The storage schema belongs to Supabase (owner supabase_storage_admin; the project owner acts
-- for it). On a Postgres without Supabase Storage this step does nothing and says so.

create schema if not exists app_storage;
revoke all on schema app_storage from public;
alter default privileges in schema app_storage revoke execute on functions from public;

-- The caller's team role when their session is live; NULL otherwise (signed out, revoked,
-- banned, deleted, no profile, or no claims at all).
create or replace function app_storage.caller_role()
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select p.role
    from app.profiles p
    join auth.users u on u.id = p.id
    join auth.sessions s on s.user_id = u.id
    where p.id::text = (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      and s.id::text = (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'session_id')
      and (s.not_after is null or s.not_after > pg_catalog.statement_timestamp())
      and (u.banned_until is null or u.banned_until <= pg_catalog.statement_timestamp())
      and u.deleted_at is null
      and p.deleted_at is null
$$;
revoke all on function app_storage.caller_role() from public;

do $$
begin
    if pg_catalog.to_regclass('storage.objects') is null
       or pg_catalog.to_regclass('storage.buckets') is null then
        raise notice 'no Supabase Storage schema in this database: buckets and storage policies skipped';
        return;
    end if;

    execute 'grant usage on schema app_storage to authenticated';
    execute 'grant execute on function app_storage.caller_role() to authenticated';

    insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types) values
        ('training-materials', 'training-materials', false, 524288000, null),
        ('call-recordings', 'call-recordings', false, 2147483648,
            array['audio/*', 'video/*', 'text/*', 'application/x-subrip']),
        ('user-avatars', 'user-avatars', false, 5242880,
            array['image/png', 'image/jpeg', 'image/webp', 'image/gif']),
        ('generated-images', 'generated-images', false, 20971520, array['image/*'])
    on conflict (id) do update
        set public = false,
            file_size_limit = excluded.file_size_limit,
            allowed_mime_types = excluded.allowed_mime_types;

    -- Re-running replaces our policies rather than leaving an older, broader one behind
    -- (permissive policies are OR-ed).
    drop policy if exists salesdesk_materials_read on storage.objects;
    drop policy if exists salesdesk_materials_insert on storage.objects;
    drop policy if exists salesdesk_materials_update on storage.objects;
    drop policy if exists salesdesk_materials_delete on storage.objects;
    drop policy if exists salesdesk_private_read on storage.objects;
    drop policy if exists salesdesk_private_insert on storage.objects;
    drop policy if exists salesdesk_private_update on storage.objects;
    drop policy if exists salesdesk_private_delete on storage.objects;
    drop policy if exists salesdesk_avatars_read on storage.objects;
    drop policy if exists salesdesk_avatars_insert on storage.objects;
    drop policy if exists salesdesk_avatars_update on storage.objects;
    drop policy if exists salesdesk_avatars_delete on storage.objects;

    -- The identity functions are wrapped as (select ...) so they run once per statement.
    create policy salesdesk_materials_read on storage.objects for select to authenticated
        using (bucket_id = 'training-materials' and (select app_storage.caller_role()) is not null);
    create policy salesdesk_materials_insert on storage.objects for insert to authenticated
        with check (bucket_id = 'training-materials' and (select app_storage.caller_role()) = 'admin');
    create policy salesdesk_materials_update on storage.objects for update to authenticated
        using (bucket_id = 'training-materials' and (select app_storage.caller_role()) = 'admin')
        with check (bucket_id = 'training-materials' and (select app_storage.caller_role()) = 'admin');
    create policy salesdesk_materials_delete on storage.objects for delete to authenticated
        using (bucket_id = 'training-materials' and (select app_storage.caller_role()) = 'admin');

    create policy salesdesk_private_read on storage.objects for select to authenticated
        using (bucket_id in ('call-recordings', 'generated-images') and (
            ((storage.foldername(name))[1] = (select auth.uid())::text
                and (select app_storage.caller_role()) is not null)
            or (select app_storage.caller_role()) in ('manager', 'admin')));
    create policy salesdesk_private_insert on storage.objects for insert to authenticated
        with check (bucket_id in ('call-recordings', 'generated-images')
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);
    create policy salesdesk_private_update on storage.objects for update to authenticated
        using (bucket_id in ('call-recordings', 'generated-images')
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null)
        with check (bucket_id in ('call-recordings', 'generated-images')
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);
    create policy salesdesk_private_delete on storage.objects for delete to authenticated
        using (bucket_id in ('call-recordings', 'generated-images')
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);

    create policy salesdesk_avatars_read on storage.objects for select to authenticated
        using (bucket_id = 'user-avatars' and (select app_storage.caller_role()) is not null);
    create policy salesdesk_avatars_insert on storage.objects for insert to authenticated
        with check (bucket_id = 'user-avatars'
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);
    create policy salesdesk_avatars_update on storage.objects for update to authenticated
        using (bucket_id = 'user-avatars'
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null)
        with check (bucket_id = 'user-avatars'
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);
    create policy salesdesk_avatars_delete on storage.objects for delete to authenticated
        using (bucket_id = 'user-avatars'
            and (storage.foldername(name))[1] = (select auth.uid())::text
            and (select app_storage.caller_role()) is not null);
end
$$;
