-- Salesdesk team mode, step 2: who is calling, decided inside Postgres.
--
-- Every user connects as the same role (salesdesk_app) with a password they can read from
-- their own keyring, so neither the role nor anything the session can set (GUCs such as
-- request.jwt.claims, SET ROLE, set_config) says who they are. The only proof is the Supabase
-- access token: the app starts every transaction with
--
--     select app.authenticate($1);   -- $1 = the user's access token, as a bind parameter
--
-- which checks the token's HS256 signature against the project's JWT secret (a table the app
-- role cannot read), its expiry and audience, and that its session still exists in
-- auth.sessions. The verified identity is then kept, for this transaction only, in the GUC
-- app.identity, sealed with an HMAC under a server-only key and bound to this backend and this
-- transaction. The caller can overwrite that GUC but cannot forge the seal, and a sealed value
-- copied from another transaction (or left behind on a pooled connection) does not verify.
--
-- Policies call app.current_user_id(), which re-checks the seal, the expiry and the session on
-- every statement: deleting the session row (sign-out, revocation) ends access at the next
-- statement, even inside an open transaction.
--
-- All functions here are SECURITY DEFINER with an empty search_path and fully qualified names,
-- so nothing the caller creates (temp tables, functions) can stand in for what they use.

create or replace function app_private.base64url_decode(p_text text)
returns bytea
language sql
immutable
strict
set search_path = ''
as $$
    select pg_catalog.decode(
        pg_catalog.rpad(
            pg_catalog.translate(p_text, '-_', '+/'),
            ((pg_catalog.length(p_text) + 3) / 4) * 4,
            '='),
        'base64')
$$;

-- Raises SQLSTATE 28000 (invalid_authorization_specification) with a short reason; the app
-- maps that code to "sign in again".
create or replace function app_private.auth_error(p_reason text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
    raise exception 'access denied: %', p_reason
        using errcode = '28000',
              hint = 'Sign in again to get a fresh access token';
end
$$;

-- Verifies a Supabase access token and returns its claims. Checks: three parts, alg HS256,
-- signature against any installed secret, exp in the future, nbf (if any) not in the future,
-- role and aud "authenticated", not an anonymous sign-in, and sub / session_id are UUIDs.
create or replace function app_private.verify_jwt(p_token text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    v_parts   text[];
    v_header  jsonb;
    v_claims  jsonb;
    v_sig     bytea;
    v_signed  text;
    v_match   boolean;
    v_now     numeric := extract(epoch from pg_catalog.statement_timestamp());
    v_uuid    constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
begin
    if p_token is null or pg_catalog.length(p_token) > 16384 then
        perform app_private.auth_error('no access token');
    end if;
    v_parts := pg_catalog.string_to_array(p_token, '.');
    if pg_catalog.array_length(v_parts, 1) is distinct from 3 then
        perform app_private.auth_error('malformed access token');
    end if;
    begin
        v_header := pg_catalog.convert_from(app_private.base64url_decode(v_parts[1]), 'UTF8')::jsonb;
        v_claims := pg_catalog.convert_from(app_private.base64url_decode(v_parts[2]), 'UTF8')::jsonb;
        v_sig := app_private.base64url_decode(v_parts[3]);
    exception when others then
        perform app_private.auth_error('malformed access token');
    end;
    if pg_catalog.jsonb_typeof(v_header) is distinct from 'object'
       or pg_catalog.jsonb_typeof(v_claims) is distinct from 'object' then
        perform app_private.auth_error('malformed access token');
    end if;
    -- Only HS256: never "none", never a caller-chosen algorithm.
    if v_header ->> 'alg' is distinct from 'HS256' then
        perform app_private.auth_error('unsupported token algorithm (only HS256 is accepted)');
    end if;

    if not exists (select 1 from app_private.jwt_secrets) then
        raise exception 'the team database has no JWT secret installed'
            using errcode = '55000',
                  hint = 'An admin must install the project''s JWT secret: salesdesk migrate --jwt-secret-env VAR';
    end if;
    -- Compare digests of the MACs rather than the MACs: equality then leaks nothing usable
    -- about the expected signature through timing.
    v_signed := v_parts[1] || '.' || v_parts[2];
    select exists (
        select 1 from app_private.jwt_secrets s
        where extensions.digest(extensions.hmac(pg_catalog.convert_to(v_signed, 'UTF8'),
                                                pg_catalog.convert_to(s.secret, 'UTF8'), 'sha256'),
                                'sha256')
              = extensions.digest(v_sig, 'sha256')
    ) into v_match;
    if not v_match then
        perform app_private.auth_error('invalid token signature');
    end if;

    if pg_catalog.jsonb_typeof(v_claims -> 'exp') is distinct from 'number' then
        perform app_private.auth_error('token has no expiry');
    end if;
    if (v_claims ->> 'exp')::numeric <= v_now then
        perform app_private.auth_error('access token expired');
    end if;
    if pg_catalog.jsonb_typeof(v_claims -> 'nbf') = 'number'
       and (v_claims ->> 'nbf')::numeric > v_now + 30 then
        perform app_private.auth_error('token not valid yet');
    end if;
    if v_claims ->> 'role' is distinct from 'authenticated' then
        perform app_private.auth_error('token is not a signed-in user''s token');
    end if;
    if not (v_claims -> 'aud' = '"authenticated"'::jsonb or v_claims -> 'aud' @> '["authenticated"]'::jsonb) then
        perform app_private.auth_error('token audience is not "authenticated"');
    end if;
    if coalesce((v_claims ->> 'is_anonymous')::boolean, false) then
        perform app_private.auth_error('anonymous sign-ins cannot use team data');
    end if;
    if coalesce(v_claims ->> 'sub', '') !~ v_uuid or coalesce(v_claims ->> 'session_id', '') !~ v_uuid then
        perform app_private.auth_error('token has no user or session id');
    end if;
    return v_claims;
end
$$;

-- The session behind a token must still exist (sign-out deletes it), be inside its time box
-- (not_after), and belong to a user who is neither banned nor deleted.
create or replace function app_private.check_session(p_user uuid, p_session uuid)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
    if not exists (
        select 1
        from auth.sessions s
        join auth.users u on u.id = s.user_id
        where s.id = p_session
          and s.user_id = p_user
          and (s.not_after is null or s.not_after > pg_catalog.statement_timestamp())
          and (u.banned_until is null or u.banned_until <= pg_catalog.statement_timestamp())
          and u.deleted_at is null
    ) then
        perform app_private.auth_error('session ended (signed out, expired or revoked)');
    end if;
end
$$;

-- The seal over an identity: HMAC(server key, user | session | exp | backend pid | transaction
-- start). Only this server can make it, and it is valid only inside the transaction that made it.
create or replace function app_private.identity_seal(p_user text, p_session text, p_exp text)
returns text
language sql
stable
set search_path = ''
as $$
    select pg_catalog.encode(
        extensions.hmac(
            pg_catalog.convert_to(
                p_user || '|' || p_session || '|' || p_exp || '|' || pg_catalog.pg_backend_pid()::text
                    || '|' || (extract(epoch from pg_catalog.transaction_timestamp()) * 1000000)::bigint::text,
                'UTF8'),
            (select k.key from app_private.server_key k),
            'sha256'),
        'hex')
$$;

-- The app's first statement in every transaction. Returns the caller's user id; raises 28000
-- when the token or its session is not valid. Outside an explicit transaction it has no lasting
-- effect (the identity is transaction-local), so the next statement is anonymous again.
create or replace function app.authenticate(p_access_token text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_claims  jsonb := app_private.verify_jwt(p_access_token);
    v_user    text := pg_catalog.lower(v_claims ->> 'sub');
    v_session text := pg_catalog.lower(v_claims ->> 'session_id');
    v_exp     text := pg_catalog.floor((v_claims ->> 'exp')::numeric)::bigint::text;
begin
    perform app_private.check_session(v_user::uuid, v_session::uuid);
    perform pg_catalog.set_config(
        'app.identity',
        v_user || '|' || v_session || '|' || v_exp || '|' || app_private.identity_seal(v_user, v_session, v_exp),
        true);
    return v_user::uuid;
end
$$;

-- The verified caller, for policies and the sync functions. Raises 28000 when the transaction
-- has not authenticated, the seal does not verify, the token has expired since, or the session
-- is gone. Policies call it as `(select app.current_user_id())` so it runs once per statement.
create or replace function app.current_user_id()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_value text := pg_catalog.current_setting('app.identity', true);
    v_parts text[];
begin
    if v_value is null or v_value = '' then
        perform app_private.auth_error('not signed in: start the transaction with select app.authenticate(access_token)');
    end if;
    v_parts := pg_catalog.string_to_array(v_value, '|');
    if pg_catalog.array_length(v_parts, 1) is distinct from 4
       or v_parts[4] is distinct from app_private.identity_seal(v_parts[1], v_parts[2], v_parts[3]) then
        perform app_private.auth_error('identity was not established by app.authenticate in this transaction');
    end if;
    if v_parts[3]::bigint <= extract(epoch from pg_catalog.statement_timestamp()) then
        perform app_private.auth_error('access token expired');
    end if;
    perform app_private.check_session(v_parts[1]::uuid, v_parts[2]::uuid);
    return v_parts[1]::uuid;
end
$$;
