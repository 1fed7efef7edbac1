-- The team's records, kept locally so reps can review and work offline (issue 5). Each table
-- mirrors its namesake in migrations/remote/20261126000003_tables.sql column for column (minus
-- the server's change_xid), so the sync engine moves rows by name without per-table code.
--
-- Local conventions (the same as call_analyses):
--   id           UUIDv7 text, made on this device
--   owner_id     the owning user's id; NULL for rows made in local mode or before the first
--                push (the server sets it from the verified identity, never from the client)
--   *_at         fixed-width RFC 3339 UTC text with milliseconds (text order = time order)
--   *_on         dates as 'YYYY-MM-DD'
--   tags, jsonb  JSON text (arrays for tags / text[])
--   money        decimal text ('1234.50'): exact, as Postgres numeric is
--   deleted_at   tombstone; the app never hard-deletes a synced row
-- Every write goes through WriteTx, which records the change for the sync outbox.

CREATE TABLE profiles (
    id           TEXT PRIMARY KEY NOT NULL,
    email        TEXT,
    full_name    TEXT NOT NULL DEFAULT '',
    role         TEXT NOT NULL DEFAULT 'rep' CHECK (role IN ('admin', 'manager', 'rep')),
    avatar_path  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
) STRICT;

CREATE TABLE clients (
    id          TEXT PRIMARY KEY NOT NULL,
    owner_id    TEXT,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    company     TEXT,
    email       TEXT,
    phone       TEXT,
    notes       TEXT,
    tags        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
) STRICT;
CREATE INDEX clients_live_by_name ON clients (name COLLATE NOCASE, id) WHERE deleted_at IS NULL;

CREATE TABLE training_materials (
    id           TEXT PRIMARY KEY NOT NULL,
    owner_id     TEXT,
    title        TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description  TEXT,
    tags         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    file_path    TEXT,
    file_size    INTEGER CHECK (file_size IS NULL OR file_size >= 0),
    file_sha256  TEXT,
    mime_type    TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
) STRICT;
CREATE INDEX training_materials_live_by_created
    ON training_materials (created_at DESC, id DESC) WHERE deleted_at IS NULL;

-- Team-mode columns of the existing table (score is already a generated column, see 0002).
ALTER TABLE call_analyses ADD COLUMN owner_id TEXT;
ALTER TABLE call_analyses ADD COLUMN client_id TEXT;

CREATE TABLE roleplay_sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    owner_id    TEXT,
    title       TEXT NOT NULL,
    scenario    TEXT,
    persona     TEXT,
    messages    TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(messages)),
    feedback    TEXT CHECK (feedback IS NULL OR json_valid(feedback)),
    score       REAL CHECK (score IS NULL OR score BETWEEN 0 AND 100),
    provider    TEXT,
    model       TEXT,
    started_at  TEXT,
    ended_at    TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
) STRICT;

CREATE TABLE market_reports (
    id          TEXT PRIMARY KEY NOT NULL,
    owner_id    TEXT,
    title       TEXT NOT NULL,
    query       TEXT NOT NULL,
    content     TEXT NOT NULL,
    sources     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(sources)),
    provider    TEXT,
    model       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
) STRICT;

CREATE TABLE generated_images (
    id           TEXT PRIMARY KEY NOT NULL,
    owner_id     TEXT,
    prompt       TEXT NOT NULL,
    file_path    TEXT,
    file_size    INTEGER CHECK (file_size IS NULL OR file_size >= 0),
    file_sha256  TEXT,
    mime_type    TEXT,
    width        INTEGER,
    height       INTEGER,
    provider     TEXT,
    model        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
) STRICT;

CREATE TABLE campaigns (
    id           TEXT PRIMARY KEY NOT NULL,
    owner_id     TEXT,
    name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
    description  TEXT,
    channel      TEXT,
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'ended')),
    starts_on    TEXT,
    ends_on      TEXT,
    budget       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
) STRICT;

CREATE TABLE signups (
    id            TEXT PRIMARY KEY NOT NULL,
    owner_id      TEXT,
    client_id     TEXT NOT NULL,
    campaign_id   TEXT,
    signed_up_on  TEXT NOT NULL,
    source        TEXT,
    value         TEXT,
    notes         TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
) STRICT;
CREATE INDEX signups_live_by_client ON signups (client_id, signed_up_on DESC) WHERE deleted_at IS NULL;
CREATE INDEX signups_live_by_campaign ON signups (campaign_id, signed_up_on DESC) WHERE deleted_at IS NULL;
