-- Search of saved analyses: full-text search over title and transcript, and filtering by score.
--
-- The score is a generated column read from the analysis JSON (`$.score`, when it is an integer
-- in 0..=100), so every writer (this app, the sync engine) keeps it right without extra code,
-- and existing rows have it at once. It is VIRTUAL (computed on read) and indexed.
ALTER TABLE call_analyses ADD COLUMN score INTEGER GENERATED ALWAYS AS (
    CASE
        WHEN json_type(analysis, '$.score') = 'integer'
             AND json_extract(analysis, '$.score') BETWEEN 0 AND 100
        THEN json_extract(analysis, '$.score')
    END
) VIRTUAL;

-- Covering indexes for the analyses list and its filters: every column of a list row is in
-- the index, so listing and filtering never read the table rows, whose transcripts run to
-- hundreds of kilobytes (and whose later columns sit behind the transcript's overflow pages).
CREATE INDEX call_analyses_live_list
    ON call_analyses (created_at DESC, id DESC, score, title, updated_at, provider, model)
    WHERE deleted_at IS NULL;

CREATE INDEX call_analyses_live_by_score
    ON call_analyses (score, created_at DESC, id DESC, title, updated_at, provider, model)
    WHERE deleted_at IS NULL;

-- External-content FTS5 index: the text lives once, in call_analyses; the index refers to rows
-- by rowid and is kept in step by the triggers below. Soft-deleted rows stay indexed (a restore
-- needs no re-index); searches filter them out.
--
-- Two rules for every writer of call_analyses, or the index drifts from the table:
--   * upsert with INSERT ... ON CONFLICT DO UPDATE, never INSERT OR REPLACE (REPLACE deletes
--     without firing the delete trigger unless recursive_triggers is on);
--   * call_analyses has no INTEGER PRIMARY KEY, so VACUUM may renumber its rowids: anything
--     that runs VACUUM must run `INSERT INTO call_analyses_fts(call_analyses_fts)
--     VALUES ('rebuild')` afterwards (see `analyses::rebuild_search_index`).
CREATE VIRTUAL TABLE call_analyses_fts USING fts5(
    title,
    transcript,
    content = 'call_analyses',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER call_analyses_fts_insert AFTER INSERT ON call_analyses BEGIN
    INSERT INTO call_analyses_fts (rowid, title, transcript)
    VALUES (new.rowid, new.title, new.transcript);
END;

CREATE TRIGGER call_analyses_fts_delete AFTER DELETE ON call_analyses BEGIN
    INSERT INTO call_analyses_fts (call_analyses_fts, rowid, title, transcript)
    VALUES ('delete', old.rowid, old.title, old.transcript);
END;

CREATE TRIGGER call_analyses_fts_update AFTER UPDATE OF title, transcript ON call_analyses BEGIN
    INSERT INTO call_analyses_fts (call_analyses_fts, rowid, title, transcript)
    VALUES ('delete', old.rowid, old.title, old.transcript);
    INSERT INTO call_analyses_fts (rowid, title, transcript)
    VALUES (new.rowid, new.title, new.transcript);
END;

-- Backfill: index the rows saved before this migration.
INSERT INTO call_analyses_fts (call_analyses_fts) VALUES ('rebuild');
