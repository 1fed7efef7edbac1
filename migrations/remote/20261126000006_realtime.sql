-- Salesdesk team mode, step 6: change notices for the sync engine's realtime pull.
--
-- After any statement that writes a synced table, the transaction sends
-- NOTIFY salesdesk_changes, '<table name>'. Postgres delivers notices only when (and if) the
-- transaction commits, and folds identical notices of one transaction into one. The payload is
-- the table name only: no row data and no ids, so a listener learns nothing but "something in
-- this table changed", and then pulls through app.pull_changes, where row-level security
-- decides what it sees.
--
-- LISTEN needs no privilege, and pg_notify is executable by everyone, so the low-privilege app
-- role can both listen and (through these triggers, on its own writes) notify. LISTEN state
-- lives in a server session: the app listens on a direct or session-pooler connection, never
-- through a transaction-mode pooler (see docs/team-mode.md).

create or replace function app_private.notify_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform pg_catalog.pg_notify('salesdesk_changes', tg_table_name);
    return null;
end
$$;
revoke all on function app_private.notify_change() from public;

do $$
declare
    t text;
begin
    for t in select name from app.synced_tables loop
        execute pg_catalog.format('drop trigger if exists notify_change on app.%I', t);
        execute pg_catalog.format(
            'create trigger notify_change after insert or update or delete on app.%I '
            'for each statement execute function app_private.notify_change()', t);
    end loop;
end
$$;
