-- The size budget of this device's offline copies of team files (issue 6). Local-only: never
-- synced (each device has its own disk). No row means the default budget.
CREATE TABLE offline_files_settings (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    budget_bytes  INTEGER NOT NULL CHECK (budget_bytes > 0),
    updated_at    TEXT NOT NULL
) STRICT;
