-- The AI chain's local state (issue 4). Local-only tables: never synced, safe to drop.

-- The chain's settings, one JSON document (see crates/core/src/ai/settings.rs).
CREATE TABLE ai_settings (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    settings    TEXT NOT NULL CHECK (json_valid(settings)),
    updated_at  TEXT NOT NULL
) STRICT;

-- What the chain learned about each provider: breaker state, misconfigured key (by
-- fingerprint, never the key), models that answered 404, last error. One JSON document each.
CREATE TABLE ai_provider_state (
    provider    TEXT PRIMARY KEY NOT NULL,
    state       TEXT NOT NULL CHECK (json_valid(state)),
    updated_at  TEXT NOT NULL
) STRICT;

-- Recent attempts per provider, for latency percentiles and the health page. Trimmed to the
-- newest few hundred per provider.
CREATE TABLE ai_provider_calls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    status      INTEGER,
    latency_ms  INTEGER NOT NULL,
    at          TEXT NOT NULL
) STRICT;
CREATE INDEX ai_provider_calls_by_provider ON ai_provider_calls (provider, id DESC);

-- Provider answers by capability, model and a hash of the whole input (prompt version,
-- schema, instructions, transcript, metrics). The input itself is not stored here.
CREATE TABLE ai_response_cache (
    capability  TEXT NOT NULL,
    input_hash  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    response    TEXT NOT NULL CHECK (json_valid(response)),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (capability, input_hash, provider, model)
) STRICT;

-- The last models-list probe of each provider (cached: the probe is cheap, not free).
CREATE TABLE ai_model_checks (
    provider    TEXT PRIMARY KEY NOT NULL,
    result      TEXT NOT NULL CHECK (json_valid(result)),
    checked_at  TEXT NOT NULL
) STRICT;
