-- 0001_init: devices, throttles and recovery codes (SQLite 3.35 or later).
--
-- {{prefix}} is replaced by the store's table prefix.
--
-- A time is two columns: <name> holds its Unix seconds and <name>_ns the
-- nanoseconds within that second (0 to 999999999), so that every
-- time.Time from the year 1 to 9999 and beyond is kept exactly and
-- compares correctly as a row value (<name>, <name>_ns). The zero
-- time.Time is its own instant, -62135596800 s (0001-01-01T00:00:00Z).
-- Durations are int64 nanoseconds. uint64 values (counter, resync_step)
-- are stored as int64(v XOR 2^63), which keeps their order.
--
-- No column holds a plaintext secret: sealed is a Keyring-sealed blob,
-- digest a keyed digest.

CREATE TABLE {{prefix}}devices (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    account         TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    otp_type        INTEGER NOT NULL,
    algorithm       INTEGER NOT NULL,
    digits          INTEGER NOT NULL,
    period_ns       INTEGER NOT NULL,
    sealed          BLOB    NOT NULL,
    state           INTEGER NOT NULL,
    counter         INTEGER NOT NULL,
    drift           INTEGER NOT NULL,
    resync_step     INTEGER NOT NULL,
    resync_drift    INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    created_at_ns   INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    expires_at_ns   INTEGER NOT NULL,
    confirmed_at    INTEGER NOT NULL,
    confirmed_at_ns INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    last_used_at_ns INTEGER NOT NULL
);

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, created_at_ns, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at, expires_at_ns) WHERE state = 1;

CREATE TABLE {{prefix}}throttles (
    account     TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    until_at    INTEGER NOT NULL,
    until_at_ns INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);

CREATE TABLE {{prefix}}recovery_codes (
    account       TEXT    NOT NULL,
    digest        BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    PRIMARY KEY (account, digest)
);
