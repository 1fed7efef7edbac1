-- Salesdesk team mode, step 4: privileges and row-level security for the app role.
--
-- Who may do what (the identity comes from app.current_user_id(), the role from the caller's
-- profile via app.current_user_role(); nothing the session can set takes part):
--
--   table                   read                          create / update
--   clients, call_analyses, own rows; managers and       own rows only
--   roleplay_sessions,      admins: everyone's
--   market_reports,
--   generated_images,
--   signups
--   campaigns               every signed-in user          managers and admins
--   training_materials      every signed-in user          admins
--   profiles                every signed-in user (team    own full_name and avatar_path;
--                           directory)                    role only through app.set_user_role
--
-- Nobody deletes rows: DELETE is not granted. A delete is a tombstone (deleted_at), an update
-- like any other, so every device learns of it.
--
-- Identity functions are always wrapped as (select ...) so Postgres evaluates them once per
-- statement (an InitPlan), not once per row.

do $$
declare
    t            record;
    v_uid        constant text := '(select app.current_user_id())';
    v_role       constant text := '(select app.current_user_role())';
    v_read       text;
    v_create     text;
    v_modify     text;
    v_insert_cols text;
    v_update_cols text;
begin
    for t in select name, write_rule from app.synced_tables loop
        execute pg_catalog.format('alter table app.%I enable row level security', t.name);
        execute pg_catalog.format('revoke all on app.%I from public', t.name);

        -- Drop every policy of ours first: re-running this file replaces them instead of
        -- leaving an older, broader policy behind (permissive policies are OR-ed).
        execute pg_catalog.format('drop policy if exists salesdesk_read on app.%I', t.name);
        execute pg_catalog.format('drop policy if exists salesdesk_create on app.%I', t.name);
        execute pg_catalog.format('drop policy if exists salesdesk_modify on app.%I', t.name);

        if t.write_rule = 'self' then
            execute pg_catalog.format('grant select on app.%I to salesdesk_app', t.name);
            execute pg_catalog.format('grant update (full_name, avatar_path) on app.%I to salesdesk_app', t.name);
            execute pg_catalog.format(
                'create policy salesdesk_read on app.%I for select to salesdesk_app using (%s is not null)', t.name, v_uid);
            execute pg_catalog.format(
                'create policy salesdesk_modify on app.%I for update to salesdesk_app using (id = %s) with check (id = %s)',
                t.name, v_uid, v_uid);
            continue;
        end if;

        -- Column privileges: the server-managed columns are not writable at all (the stamp
        -- trigger also resets them, this makes an attempt fail loudly instead).
        select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
                   filter (where a.attname <> 'change_xid'),
               pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
                   filter (where a.attname not in ('id', 'owner_id', 'created_at', 'change_xid'))
          into v_insert_cols, v_update_cols
          from pg_catalog.pg_attribute a
         where a.attrelid = pg_catalog.format('app.%I', t.name)::regclass
           and a.attnum > 0 and not a.attisdropped;
        execute pg_catalog.format('grant select on app.%I to salesdesk_app', t.name);
        execute pg_catalog.format('grant insert (%s) on app.%I to salesdesk_app', v_insert_cols, t.name);
        execute pg_catalog.format('grant update (%s) on app.%I to salesdesk_app', v_update_cols, t.name);

        if t.write_rule = 'owner' then
            v_read := pg_catalog.format('owner_id = %s or %s in (''manager'', ''admin'')', v_uid, v_role);
            v_create := pg_catalog.format('owner_id = %s', v_uid);
            v_modify := pg_catalog.format('owner_id = %s', v_uid);
        elsif t.write_rule = 'manager' then
            v_read := pg_catalog.format('%s is not null', v_uid);
            v_create := pg_catalog.format('owner_id = %s and %s in (''manager'', ''admin'')', v_uid, v_role);
            v_modify := pg_catalog.format('%s in (''manager'', ''admin'')', v_role);
        elsif t.write_rule = 'admin' then
            v_read := pg_catalog.format('%s is not null', v_uid);
            v_create := pg_catalog.format('owner_id = %s and %s = ''admin''', v_uid, v_role);
            v_modify := pg_catalog.format('%s = ''admin''', v_role);
        else
            raise exception 'unknown write rule % for table %', t.write_rule, t.name;
        end if;

        execute pg_catalog.format(
            'create policy salesdesk_read on app.%I for select to salesdesk_app using (%s)', t.name, v_read);
        execute pg_catalog.format(
            'create policy salesdesk_create on app.%I for insert to salesdesk_app with check (%s)', t.name, v_create);
        execute pg_catalog.format(
            'create policy salesdesk_modify on app.%I for update to salesdesk_app using (%s) with check (%s)',
            t.name, v_modify, v_modify);
    end loop;
end
$$;

-- The list of synced tables and their write rules is not secret: the sync functions (which run
-- as the caller) read it.
grant select on app.synced_tables to salesdesk_app;

-- The API the app role may call; everything else in app / app_private stays closed.
revoke all on all functions in schema app from public;
revoke all on all functions in schema app_private from public;
grant execute on function app.authenticate(text) to salesdesk_app;
grant execute on function app.current_user_id() to salesdesk_app;
grant execute on function app.current_user_role() to salesdesk_app;
grant execute on function app.set_user_role(uuid, text) to salesdesk_app;
