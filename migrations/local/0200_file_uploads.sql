-- Resumable uploads in progress (issue 6). Local-only, never synced: a row lives from the
-- creation of a TUS upload until it completes, so that a network cut, a crash or a restart
-- resumes at the offset the server confirmed instead of starting over.
CREATE TABLE file_uploads (
    bucket        TEXT NOT NULL,
    object_path   TEXT NOT NULL,
    -- The upload URL the server gave (Location); it names the upload, not a secret.
    upload_url    TEXT NOT NULL,
    -- Bytes the server confirmed (Upload-Offset after the last PATCH or HEAD).
    confirmed     INTEGER NOT NULL CHECK (confirmed >= 0),
    size          INTEGER NOT NULL CHECK (size > 0),
    -- The source's content when the upload began: a resume of different content starts over.
    sha256        TEXT NOT NULL,
    source_path   TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    upsert        INTEGER NOT NULL CHECK (upsert IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (bucket, object_path)
) STRICT;
