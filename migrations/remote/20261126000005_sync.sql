-- Salesdesk team mode, step 5: the two functions the sync engine calls.
--
-- Both run as the caller (SECURITY INVOKER), so row-level security applies to everything they
-- read and write; they add no privilege, only set-based speed and per-row answers.
--
-- Pull cursor. A plain `updated_at > cursor` (or a sequence number) misses rows: numbers and
-- timestamps are taken when a row is written, but rows become visible when their transaction
-- commits, which can be later and in another order. Instead each row carries change_xid, the id
-- of the transaction that last wrote it, and a pull returns only rows whose change_xid is below
-- the snapshot's xmin (pg_snapshot_xmin(pg_current_snapshot())): every transaction below that
-- is finished, and every transaction still running or yet to start has an id at or above it.
-- So the set of rows below the watermark is final, and ordering it by (change_xid, id) gives a
-- keyset cursor that no later commit can land behind. A row updated later gets a new, higher
-- change_xid and is delivered again. The price: a pull does not see a change until every
-- transaction that started before it has ended (milliseconds normally; the app role's
-- idle_in_transaction_session_timeout bounds how long a stuck session can delay it).
--
-- Cursor format: '<change_xid>:<id>' (opaque to the client); null or '' starts from the
-- beginning. The cursor is per table and per user.

create or replace function app.pull_changes(p_table text, p_cursor text default null, p_limit integer default 500)
returns table (changes jsonb, next_cursor text, has_more boolean)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    v_rule       text;
    v_uid        uuid := app.current_user_id();
    v_after_xid  xid8 := '0'::xid8;
    v_after_id   uuid := '00000000-0000-0000-0000-000000000000';
    v_watermark  xid8 := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
    v_limit      integer := least(greatest(coalesce(p_limit, 500), 1), 5000);
    v_only_own   text := '';
    v_count      integer;
    v_last       text;
begin
    select s.write_rule into v_rule from app.synced_tables s where s.name = p_table;
    if v_rule is null then
        raise exception 'unknown synced table "%"', p_table
            using errcode = '22023',
                  hint = 'One of: ' || (select pg_catalog.string_agg(name, ', ' order by name) from app.synced_tables);
    end if;
    if coalesce(p_cursor, '') <> '' then
        if p_cursor !~ '^[0-9]{1,20}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
            raise exception 'invalid pull cursor "%"', p_cursor
                using errcode = '22023', hint = 'Pass the next_cursor of the previous pull, or null to start over';
        end if;
        v_after_xid := pg_catalog.split_part(p_cursor, ':', 1)::xid8;
        v_after_id := pg_catalog.split_part(p_cursor, ':', 2)::uuid;
    end if;
    -- Row-level security already hides other people's rows from a rep; saying so in the query
    -- lets the planner walk the (owner_id, change_xid, id) index instead of filtering.
    if v_rule = 'owner' and app.current_user_role() not in ('manager', 'admin') then
        v_only_own := 'and t.owner_id = $5';
    end if;
    execute pg_catalog.format(
        $q$
        select coalesce(pg_catalog.jsonb_agg(q.doc order by q.change_xid, q.id), '[]'::jsonb),
               pg_catalog.count(*)::integer,
               (pg_catalog.array_agg(q.change_xid::text || ':' || q.id::text
                                     order by q.change_xid desc, q.id desc))[1]
          from (select t.change_xid, t.id, pg_catalog.to_jsonb(t) - 'change_xid' as doc
                  from app.%I t
                 where (t.change_xid, t.id) > ($1, $2)
                   and t.change_xid < $3
                   %s
                 order by t.change_xid, t.id
                 limit $4) q
        $q$, p_table, v_only_own)
        into changes, v_count, v_last
        using v_after_xid, v_after_id, v_watermark, v_limit, v_uid;
    next_cursor := coalesce(v_last, nullif(p_cursor, ''));
    has_more := v_count = v_limit;
    return next;
end
$$;

-- Idempotent last-writer-wins upsert of a batch of rows (a JSON array of objects shaped like the
-- rows pull_changes returns). For each distinct id it answers one status:
--   applied    the row was inserted, or it replaced an older version (updated_at strictly older)
--   stale      the server already has this version or a newer one; nothing changed (replays of
--              the same push land here, which makes pushing idempotent)
--   forbidden  the caller may not write this row (someone else's, or their role may not write
--              this table); nothing changed
-- owner_id and change_xid in the input are ignored: the owner of a new row is the caller, and
-- an existing row keeps its owner. Tombstones are rows with deleted_at set. Missing columns
-- that have a default get it. At most 5000 rows per call.
create or replace function app.push_upsert(p_table text, p_rows jsonb)
returns table (row_id uuid, status text)
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
    v_rule      text;
    v_pushable  boolean;
    v_uid       uuid := app.current_user_id();
    v_role      text := app.current_user_role();
    v_role_ok   boolean;
    v_cols      text;
    v_vals      text;
    v_set       text;
begin
    select s.write_rule, s.pushable into v_rule, v_pushable from app.synced_tables s where s.name = p_table;
    if v_rule is null then
        raise exception 'unknown synced table "%"', p_table using errcode = '22023';
    end if;
    if not v_pushable then
        raise exception 'table "%" is not pushed', p_table
            using errcode = '22023', hint = 'Profiles are edited with UPDATE app.profiles; roles with app.set_user_role';
    end if;
    if pg_catalog.jsonb_typeof(p_rows) is distinct from 'array' then
        raise exception 'push_upsert expects a JSON array of rows' using errcode = '22023';
    end if;
    if pg_catalog.jsonb_array_length(p_rows) > 5000 then
        raise exception 'too many rows in one push (%), the limit is 5000', pg_catalog.jsonb_array_length(p_rows)
            using errcode = '22023', hint = 'Split the batch';
    end if;
    if exists (
        select 1 from pg_catalog.jsonb_array_elements(p_rows) e
        where pg_catalog.jsonb_typeof(e) is distinct from 'object'
           or pg_catalog.jsonb_typeof(e -> 'id') is distinct from 'string'
           or pg_catalog.jsonb_typeof(e -> 'updated_at') is distinct from 'string'
    ) then
        raise exception 'every pushed row must be an object with string id and updated_at' using errcode = '22023';
    end if;

    v_role_ok := case v_rule
        when 'owner' then true
        when 'manager' then v_role in ('manager', 'admin')
        when 'admin' then v_role = 'admin'
        else false end;

    -- The client-supplied columns: all but the server-managed owner_id and change_xid. A column
    -- with a default takes it when the input leaves it out (or null).
    select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum),
           pg_catalog.string_agg(
               case when d.adbin is null then 'i.' || pg_catalog.quote_ident(a.attname)
                    else pg_catalog.format('coalesce(i.%I, %s)', a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid))
               end, ', ' order by a.attnum),
           pg_catalog.string_agg(
               case when d.adbin is null then pg_catalog.format('%1$I = i.%1$I', a.attname)
                    else pg_catalog.format('%1$I = coalesce(i.%1$I, %2$s)', a.attname, pg_catalog.pg_get_expr(d.adbin, d.adrelid))
               end, ', ' order by a.attnum)
               filter (where a.attname not in ('id', 'created_at'))
      into v_cols, v_vals, v_set
      from pg_catalog.pg_attribute a
      left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = pg_catalog.format('app.%I', p_table)::regclass
       and a.attnum > 0 and not a.attisdropped
       and a.attname not in ('owner_id', 'change_xid');

    -- One statement, one snapshot. `visible` is what RLS lets the caller see; of that,
    -- `writable` is what the table's rule lets them change. Rows not visible are inserted with
    -- ON CONFLICT DO NOTHING, so an id that belongs to a row the caller cannot see changes
    -- nothing and reveals nothing (it comes back as forbidden).
    return query execute pg_catalog.format(
        $q$
        with input as (
            select distinct on (r.id) r.*
              from pg_catalog.jsonb_populate_recordset(null::app.%1$I, $1) r
             order by r.id, r.updated_at desc
        ),
        visible as (
            select t.id, t.owner_id from app.%1$I t where t.id in (select id from input)
        ),
        writable as (
            select v.id from visible v where case when $4 then v.owner_id = $2 else $3 end
        ),
        updated as (
            update app.%1$I t set %4$s
              from input i
             where t.id = i.id
               and t.id in (select id from writable)
               and t.updated_at < i.updated_at
            returning t.id
        ),
        inserted as (
            insert into app.%1$I (%2$s, owner_id)
            select %3$s, $2
              from input i
             where $3
               and not exists (select 1 from visible v where v.id = i.id)
            on conflict (id) do nothing
            returning id
        )
        select i.id,
               case when exists (select 1 from updated u where u.id = i.id)
                      or exists (select 1 from inserted n where n.id = i.id) then 'applied'
                    when exists (select 1 from writable w where w.id = i.id) then 'stale'
                    else 'forbidden'
               end
          from input i
         order by i.id
        $q$, p_table, v_cols, v_vals, v_set)
        using p_rows, v_uid, v_role_ok, v_rule = 'owner';
end
$$;

revoke all on function app.pull_changes(text, text, integer) from public;
revoke all on function app.push_upsert(text, jsonb) from public;
grant execute on function app.pull_changes(text, text, integer) to salesdesk_app;
grant execute on function app.push_upsert(text, jsonb) to salesdesk_app;
