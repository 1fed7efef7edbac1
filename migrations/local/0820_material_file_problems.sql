-- Why a material's file is not where this device wants it yet (issue 6), local-only, never
-- synced: a pinned file whose download failed, or a file added in local mode whose upload to
-- the team's bucket failed or is not allowed. The row goes once the transfer succeeds; while it
-- is here the library shows the reason and the background pass retries (except `forbidden`,
-- which waits for a role change).
CREATE TABLE material_file_problems (
    material_id  TEXT PRIMARY KEY NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('download', 'upload')),
    reason       TEXT NOT NULL CHECK (reason IN ('offline', 'signed_out', 'not_found', 'disk_full',
                                                 'forbidden', 'other')),
    message      TEXT NOT NULL,
    attempts     INTEGER NOT NULL CHECK (attempts >= 1),
    failed_at    TEXT NOT NULL
) STRICT;
