-- Call recordings (issue 6): the audio or video file of a call, stored with its analysis.
-- Local-only for now: the row says where this device stored the file (the local file store in
-- local mode, the user's folder of the `call-recordings` bucket in team mode). Transcription,
-- and showing a teammate's recordings, come with a later issue.
CREATE TABLE call_recordings (
    id           TEXT PRIMARY KEY NOT NULL,
    analysis_id  TEXT NOT NULL,
    -- 'local': a key of the local file store; 'team': an object path in `call-recordings`.
    store        TEXT NOT NULL CHECK (store IN ('local', 'team')),
    file_key     TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    file_size    INTEGER NOT NULL CHECK (file_size > 0),
    file_sha256  TEXT NOT NULL,
    mime_type    TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

CREATE INDEX call_recordings_by_analysis ON call_recordings (analysis_id, created_at);
