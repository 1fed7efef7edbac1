-- The sync outbox and the sync engine's bookkeeping (issue 5). See docs/team-mode.md, "Sync
-- engine".
--
-- Every WriteTx appends one entry per changed row here in the same SQLite transaction as the
-- row itself, so an acknowledged write always has its entry. Local mode (never signed in)
-- records entries too: a user who later joins a team pushes the work they did before.
--
-- One entry per row: a later write of the same row replaces the entry (delete + insert), which
-- gives it a new, higher seq. The push removes an entry by seq once the server has the row, so
-- a write that races a push keeps its own entry and is pushed again.
CREATE TABLE sync_outbox (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name       TEXT NOT NULL,
    row_id           TEXT NOT NULL,
    op               TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    queued_at        TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    -- The server refused the row for good (not allowed, invalid): kept and shown, not retried
    -- until the row is written again.
    rejected         INTEGER NOT NULL DEFAULT 0 CHECK (rejected IN (0, 1)),
    rejected_reason  TEXT,
    UNIQUE (table_name, row_id)
) STRICT;
CREATE INDEX sync_outbox_pending ON sync_outbox (rejected, seq);

-- Where each user's pull of each table stands: the opaque cursor of app.pull_changes, stored
-- in the same transaction as the rows it covers.
CREATE TABLE sync_cursors (
    user_id     TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    cursor      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, table_name)
) STRICT;

-- One row: what the last rounds did, for the status bar and `salesdesk health`.
CREATE TABLE sync_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    state         TEXT NOT NULL DEFAULT 'signed_out'
                  CHECK (state IN ('idle', 'syncing', 'offline', 'signed_out')),
    user_id       TEXT,
    last_push_at  TEXT,
    last_pull_at  TEXT,
    last_error    TEXT,
    last_error_at TEXT
) STRICT;
INSERT INTO sync_state (id) VALUES (1);
