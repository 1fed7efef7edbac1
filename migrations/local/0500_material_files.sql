-- The training-materials library's local-only state (issue 6): never synced.
--
-- material_uploads: a material being added. The file is stored first and the synced
-- training_materials row written only once it is safely stored, so until then the material
-- lives here: a crash, a network cut or a cancel leaves this row, and the upload resumes (see
-- file_uploads for the resumable-upload offset) instead of being lost or half-recorded.
CREATE TABLE material_uploads (
    -- The id the material will have (the storage path is derived from it).
    id           TEXT PRIMARY KEY NOT NULL,
    source_path  TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    file_size    INTEGER NOT NULL CHECK (file_size >= 0),
    -- Title, description and tags as given (already checked), JSON.
    meta         TEXT NOT NULL CHECK (json_valid(meta)),
    -- The bucket object path once the content is hashed (team mode), to find its TUS row.
    object_path  TEXT,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'uploading', 'failed')),
    error        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;

-- Materials this user keeps available offline: their files are never evicted from the cache.
CREATE TABLE material_pins (
    material_id  TEXT PRIMARY KEY NOT NULL,
    pinned_at    TEXT NOT NULL
) STRICT;
