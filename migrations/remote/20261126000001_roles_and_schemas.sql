-- Salesdesk team mode, step 1: the extension, the app role and the schemas.
--
-- Every statement here is safe to run again (IF NOT EXISTS, guarded DO blocks), so the same
-- files work with `salesdesk migrate` (sqlx) and with the Supabase CLI's `db push`, and a
-- project where one of them already ran is not broken by the other.
--
-- Run as the project's owner role (`postgres` on Supabase): it needs CREATEROLE, and it owns
-- every object created here. The desktop app never connects as that role.

-- pgcrypto gives HMAC-SHA256 (JWT verification) and random bytes. Supabase installs it in
-- `extensions`; a plain Postgres gets it there too, so every reference below can be qualified.
create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;

do $$
declare
    v_schema text;
begin
    select n.nspname into v_schema
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgcrypto';
    if v_schema is distinct from 'extensions' then
        raise exception 'pgcrypto is installed in schema %, Salesdesk needs it in schema extensions', v_schema
            using hint = 'Run: alter extension pgcrypto set schema extensions';
    end if;
end
$$;

-- The role the desktop app logs in as. Its password ends up in every user's keyring, so it is
-- treated as public: it owns nothing, inherits nothing, cannot bypass RLS, and every row it can
-- reach is decided by the policies below from an identity it cannot forge. It is created
-- without LOGIN; an admin enables it with a password (see docs/team-mode.md or
-- `salesdesk migrate --app-password-env`).
do $$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'salesdesk_app') then
        create role salesdesk_app nologin noinherit nocreatedb nocreaterole noreplication;
    end if;
end
$$;

alter role salesdesk_app noinherit nocreatedb nocreaterole;

-- Refuse to go on with an app role that could escape the policies, whoever created it.
do $$
declare
    v_attrs record;
begin
    select rolsuper, rolbypassrls into v_attrs from pg_catalog.pg_roles where rolname = 'salesdesk_app';
    if v_attrs.rolsuper or v_attrs.rolbypassrls then
        raise exception 'role salesdesk_app must not be SUPERUSER or BYPASSRLS'
            using hint = 'Run as an administrator: alter role salesdesk_app nosuperuser nobypassrls';
    end if;
    if exists (
        select 1 from pg_catalog.pg_auth_members m
        join pg_catalog.pg_roles member on member.oid = m.member
        where member.rolname = 'salesdesk_app'
    ) then
        raise exception 'role salesdesk_app must not be a member of other roles'
            using hint = 'Revoke its memberships: it must hold only the grants made by these migrations';
    end if;
end
$$;

-- A user holding the app password must not be able to pin connections or run away with the
-- server: bounded statements, and idle transactions (which would also hold back every device's
-- pull watermark, see app.pull_changes) are cut.
alter role salesdesk_app set statement_timeout = '30s';
alter role salesdesk_app set idle_in_transaction_session_timeout = '60s';

-- `app`: the tables and the API the app calls. `app_private`: secrets and helpers the app role
-- can neither see nor call.
create schema if not exists app;
create schema if not exists app_private;

revoke all on schema app from public;
revoke all on schema app_private from public;
grant usage on schema app to salesdesk_app;

-- Functions are executable by PUBLIC by default; in these schemas nothing is, unless granted
-- by name in a later step.
alter default privileges in schema app revoke execute on functions from public;
alter default privileges in schema app_private revoke execute on functions from public;

-- The project's JWT secret(s): the HS256 key Supabase Auth signs access tokens with. More than
-- one row is accepted so that a secret can be rotated without signing everyone out. Installed
-- by an admin (`salesdesk migrate --jwt-secret-env`, or app_private.install_jwt_secret in the
-- SQL editor); never by a migration, so it is not in any file.
create table if not exists app_private.jwt_secrets (
    id          bigint generated always as identity primary key,
    secret      text not null unique check (length(secret) >= 32),
    note        text,
    created_at  timestamptz not null default now()
);

-- A random key, made on this server and never leaving it, that seals the verified identity for
-- the rest of a transaction (see app.authenticate).
create table if not exists app_private.server_key (
    singleton   boolean primary key default true check (singleton),
    key         bytea not null default extensions.gen_random_bytes(32)
);
insert into app_private.server_key default values on conflict do nothing;

revoke all on all tables in schema app_private from public;

create or replace function app_private.install_jwt_secret(p_secret text, p_note text default null)
returns void
language sql
volatile
set search_path = ''
as $$
    insert into app_private.jwt_secrets (secret, note)
    values (p_secret, coalesce(p_note, 'installed ' || pg_catalog.now()::text))
    on conflict (secret) do nothing;
$$;
revoke all on function app_private.install_jwt_secret(text, text) from public;
