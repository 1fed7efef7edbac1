-- Call recordings become synced (issue 6, item 4): call_recordings gains the bookkeeping
-- columns of the other synced tables (see 0400_team_tables.sql) so that it mirrors
-- app.call_recordings (migrations/remote/20261126000008_call_recordings.sql) column for
-- column. Only rows with store = 'team' are ever pushed: a file in this device's local store
-- is of no use to a teammate.
ALTER TABLE call_recordings ADD COLUMN owner_id TEXT;
ALTER TABLE call_recordings ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE call_recordings ADD COLUMN deleted_at TEXT;
UPDATE call_recordings SET updated_at = created_at WHERE updated_at = '';

DROP INDEX IF EXISTS call_recordings_by_analysis;
CREATE INDEX call_recordings_live_by_analysis
    ON call_recordings (analysis_id, created_at, id) WHERE deleted_at IS NULL;

-- recording_uploads: a recording being attached, local-only (never synced), as
-- material_uploads is for materials. The file is stored first and the call_recordings row
-- written only once it is safe, so until then the recording lives here: an exit, a crash or a
-- cut leaves this row and the upload resumes at the next start (file_uploads keeps the
-- resumable upload's URL and offset) instead of being lost or recorded without a file.
CREATE TABLE recording_uploads (
    -- The id the recording will have.
    id           TEXT PRIMARY KEY NOT NULL,
    analysis_id  TEXT NOT NULL,
    source_path  TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    file_size    INTEGER NOT NULL CHECK (file_size > 0),
    mime_type    TEXT NOT NULL,
    -- The bucket object path once the content is hashed (team mode), to find its TUS row.
    object_path  TEXT,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'failed')),
    error        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
