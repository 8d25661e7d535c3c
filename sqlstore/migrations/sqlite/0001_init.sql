-- 0001_init: devices, throttles and recovery codes (SQLite 3.35 or later).
--
-- {{prefix}} is replaced by the store's table prefix. Times are int64 Unix
-- nanoseconds with 0 for the zero time; durations are int64 nanoseconds;
-- uint64 values (counter, resync_step) are stored as int64(v XOR 2^63),
-- which keeps their order. No column holds a plaintext secret: sealed is a
-- Keyring-sealed blob, digest a keyed digest.

CREATE TABLE {{prefix}}devices (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    account      TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    otp_type     INTEGER NOT NULL,
    algorithm    INTEGER NOT NULL,
    digits       INTEGER NOT NULL,
    period_ns    INTEGER NOT NULL,
    sealed       BLOB    NOT NULL,
    state        INTEGER NOT NULL,
    counter      INTEGER NOT NULL,
    drift        INTEGER NOT NULL,
    resync_step  INTEGER NOT NULL,
    resync_drift INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at) WHERE state = 1;

CREATE TABLE {{prefix}}throttles (
    account  TEXT    NOT NULL,
    scope    TEXT    NOT NULL,
    failures INTEGER NOT NULL,
    until_ns INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);

CREATE TABLE {{prefix}}recovery_codes (
    account    TEXT    NOT NULL,
    digest     BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, digest)
);
