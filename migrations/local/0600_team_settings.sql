-- Where this device finds its team (issue 5): the Supabase project URL, its anon (publishable)
-- key and the team database URL *without* its password, which lives in the OS keyring.
-- Local-only: never synced. One row at most; no row means local mode.
CREATE TABLE team_settings (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    supabase_url  TEXT,
    anon_key      TEXT,
    database_url  TEXT,
    updated_at    TEXT NOT NULL
) STRICT;
