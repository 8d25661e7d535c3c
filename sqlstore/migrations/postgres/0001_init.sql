-- 0001_init: devices, throttles and recovery codes (PostgreSQL 12 or later).
--
-- {{prefix}} is replaced by the store's table prefix. Times are int64 Unix
-- nanoseconds with 0 for the zero time; durations are int64 nanoseconds;
-- uint64 values (counter, resync_step) are stored as int64(v XOR 2^63),
-- which keeps their order (PostgreSQL has no unsigned 64-bit type). No
-- column holds a plaintext secret: sealed is a Keyring-sealed blob, digest a
-- keyed digest.

CREATE TABLE {{prefix}}devices (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY,
    id           TEXT    NOT NULL PRIMARY KEY,
    account      TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    otp_type     INTEGER NOT NULL,
    algorithm    INTEGER NOT NULL,
    digits       INTEGER NOT NULL,
    period_ns    BIGINT  NOT NULL,
    sealed       BYTEA   NOT NULL,
    state        INTEGER NOT NULL,
    counter      BIGINT  NOT NULL,
    drift        BIGINT  NOT NULL,
    resync_step  BIGINT  NOT NULL,
    resync_drift BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    confirmed_at BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL
);

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at) WHERE state = 1;

CREATE TABLE {{prefix}}throttles (
    account  TEXT   NOT NULL,
    scope    TEXT   NOT NULL,
    failures BIGINT NOT NULL,
    until_ns BIGINT NOT NULL,
    PRIMARY KEY (account, scope)
);

CREATE TABLE {{prefix}}recovery_codes (
    account    TEXT   NOT NULL,
    digest     BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account, digest)
);
