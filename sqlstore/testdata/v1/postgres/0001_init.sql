-- 0001_init: devices, throttles and recovery codes (PostgreSQL 12 or later).
--
-- {{prefix}} is replaced by the store's table prefix.
--
-- A time is two columns: <name> holds its Unix seconds and <name>_ns the
-- nanoseconds within that second (0 to 999999999), so that every
-- time.Time from the year 1 to 9999 and beyond is kept exactly and
-- compares correctly as a row value (<name>, <name>_ns). The zero
-- time.Time is its own instant, -62135596800 s (0001-01-01T00:00:00Z).
-- Durations are int64 nanoseconds. uint64 values (counter, resync_step)
-- are stored as int64(v XOR 2^63), which keeps their order (PostgreSQL
-- has no unsigned 64-bit type).
--
-- No column holds a plaintext secret: sealed is a Keyring-sealed blob,
-- digest a keyed digest.

CREATE TABLE {{prefix}}devices (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY,
    id              TEXT    NOT NULL PRIMARY KEY,
    account         TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    otp_type        INTEGER NOT NULL,
    algorithm       INTEGER NOT NULL,
    digits          INTEGER NOT NULL,
    period_ns       BIGINT  NOT NULL,
    sealed          BYTEA   NOT NULL,
    state           INTEGER NOT NULL,
    counter         BIGINT  NOT NULL,
    drift           BIGINT  NOT NULL,
    resync_step     BIGINT  NOT NULL,
    resync_drift    BIGINT  NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      BIGINT  NOT NULL,
    created_at_ns   INTEGER NOT NULL,
    expires_at      BIGINT  NOT NULL,
    expires_at_ns   INTEGER NOT NULL,
    confirmed_at    BIGINT  NOT NULL,
    confirmed_at_ns INTEGER NOT NULL,
    last_used_at    BIGINT  NOT NULL,
    last_used_at_ns INTEGER NOT NULL
);

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, created_at_ns, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at, expires_at_ns) WHERE state = 1;

CREATE TABLE {{prefix}}throttles (
    account     TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    failures    BIGINT  NOT NULL,
    until_at    BIGINT  NOT NULL,
    until_at_ns INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);

CREATE TABLE {{prefix}}recovery_codes (
    account       TEXT    NOT NULL,
    digest        BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL,
    created_at_ns INTEGER NOT NULL,
    PRIMARY KEY (account, digest)
);
