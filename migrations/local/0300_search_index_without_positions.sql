-- The search index without word positions (FTS5 `detail=none`). Search needs only which
-- analyses contain every word, never where: positions made the index several times larger, and
-- a query with words common in sales calls read megabytes of position lists, over the 20 ms
-- target at 10,000 analyses. Without positions there are no phrase queries, so
-- `analyses::search_terms` sends single words (and falls back to a text scan if the tokenizer
-- still cuts one differently).
DROP TRIGGER call_analyses_fts_insert;
DROP TRIGGER call_analyses_fts_delete;
DROP TRIGGER call_analyses_fts_update;
DROP TABLE call_analyses_fts;

CREATE VIRTUAL TABLE call_analyses_fts USING fts5(
    title,
    transcript,
    content = 'call_analyses',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    detail = none
);

-- The same rules as in 0002: writers upsert with ON CONFLICT DO UPDATE (never INSERT OR
-- REPLACE), and anything that runs VACUUM rebuilds this index afterwards.
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

INSERT INTO call_analyses_fts (call_analyses_fts) VALUES ('rebuild');
