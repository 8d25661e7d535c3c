-- 0006_time_nanoseconds: every time in one BIGINT column of Unix
-- nanoseconds, the zero time.Time as -9223372036854775808 (math.MinInt64,
-- written here as -9223372036854775807 - 1, which SQLite keeps an
-- INTEGER); and challenges_number_idx dropped, which no statement used.
--
-- A time <name>, <name>_ns (0001's seconds and nanoseconds) becomes
-- <name> = <name> * 10^9 + <name>_ns, the zero Time (-62135596800, 0)
-- becomes math.MinInt64, and times beyond the int64-nanosecond range
-- (before 1677-09-21T00:12:43.145224193Z or after
-- 2262-04-11T23:47:16.854775807Z, which the twofa.Store contract does not
-- require a store to keep) saturate at its ends. A throttle's forgiven_at
-- was Unix nanoseconds already, with 0 for none; none becomes
-- math.MinInt64 as well, as for every other time.
--
-- SQLite cannot change a column in place: each table is built anew,
-- filled from the old one, which is then dropped, and renamed; Migrate
-- runs it all in one transaction.

CREATE TABLE {{prefix}}devices_new (
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

INSERT INTO {{prefix}}devices_new (seq, id, account, label, otp_type, algorithm, digits, period_ns, sealed, state, counter, drift, resync_step, resync_drift, attempts, created_at, expires_at, confirmed_at, last_used_at)
    SELECT
        seq,
        id,
        account,
        label,
        otp_type,
        algorithm,
        digits,
        period_ns,
        sealed,
        state,
        counter,
        drift,
        resync_step,
        resync_drift,
        attempts,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
        CASE WHEN confirmed_at = -62135596800 AND confirmed_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN confirmed_at > 9223372036 OR (confirmed_at = 9223372036 AND confirmed_at_ns > 854775807) THEN 9223372036854775807
            WHEN confirmed_at < -9223372037 OR (confirmed_at = -9223372037 AND confirmed_at_ns <= 145224192) THEN -9223372036854775807
            WHEN confirmed_at < 0 THEN (confirmed_at + 1) * 1000000000 + (confirmed_at_ns - 1000000000)
            ELSE confirmed_at * 1000000000 + confirmed_at_ns END,
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END
    FROM {{prefix}}devices;

DROP TABLE {{prefix}}devices;

ALTER TABLE {{prefix}}devices_new RENAME TO {{prefix}}devices;

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at) WHERE state = 1;

CREATE TABLE {{prefix}}throttles_new (
    account      TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    failures     INTEGER NOT NULL,
    until_at     INTEGER NOT NULL,
    forgiven_at  INTEGER NOT NULL,
    PRIMARY KEY (account, scope)
);

INSERT INTO {{prefix}}throttles_new (account, scope, failures, until_at, forgiven_at)
    SELECT
        account,
        scope,
        failures,
        CASE WHEN until_at = -62135596800 AND until_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN until_at > 9223372036 OR (until_at = 9223372036 AND until_at_ns > 854775807) THEN 9223372036854775807
            WHEN until_at < -9223372037 OR (until_at = -9223372037 AND until_at_ns <= 145224192) THEN -9223372036854775807
            WHEN until_at < 0 THEN (until_at + 1) * 1000000000 + (until_at_ns - 1000000000)
            ELSE until_at * 1000000000 + until_at_ns END,
        CASE WHEN forgiven_at = 0 THEN (-9223372036854775807 - 1) ELSE forgiven_at END
    FROM {{prefix}}throttles;

DROP TABLE {{prefix}}throttles;

ALTER TABLE {{prefix}}throttles_new RENAME TO {{prefix}}throttles;

CREATE TABLE {{prefix}}recovery_codes_new (
    account      TEXT    NOT NULL,
    digest       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account, digest)
);

INSERT INTO {{prefix}}recovery_codes_new (account, digest, created_at)
    SELECT
        account,
        digest,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END
    FROM {{prefix}}recovery_codes;

DROP TABLE {{prefix}}recovery_codes;

ALTER TABLE {{prefix}}recovery_codes_new RENAME TO {{prefix}}recovery_codes;

CREATE TABLE {{prefix}}app_passwords_new (
    seq          INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    digest       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);

INSERT INTO {{prefix}}app_passwords_new (seq, account, id, label, digest, created_at, last_used_at)
    SELECT
        seq,
        account,
        id,
        label,
        digest,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END
    FROM {{prefix}}app_passwords;

DROP TABLE {{prefix}}app_passwords;

ALTER TABLE {{prefix}}app_passwords_new RENAME TO {{prefix}}app_passwords;

CREATE UNIQUE INDEX {{prefix}}app_passwords_id_idx ON {{prefix}}app_passwords (account, id);

CREATE UNIQUE INDEX {{prefix}}app_passwords_label_idx ON {{prefix}}app_passwords (account, label);

CREATE UNIQUE INDEX {{prefix}}app_passwords_digest_idx ON {{prefix}}app_passwords (account, digest);

CREATE INDEX {{prefix}}app_passwords_account_idx ON {{prefix}}app_passwords (account, created_at, seq);

CREATE TABLE {{prefix}}phones_new (
    seq          INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    e164         TEXT    NOT NULL,
    country_code INTEGER NOT NULL,
    state        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);

INSERT INTO {{prefix}}phones_new (seq, account, id, e164, country_code, state, created_at, expires_at, confirmed_at, last_used_at)
    SELECT
        seq,
        account,
        id,
        e164,
        country_code,
        state,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
        CASE WHEN confirmed_at = -62135596800 AND confirmed_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN confirmed_at > 9223372036 OR (confirmed_at = 9223372036 AND confirmed_at_ns > 854775807) THEN 9223372036854775807
            WHEN confirmed_at < -9223372037 OR (confirmed_at = -9223372037 AND confirmed_at_ns <= 145224192) THEN -9223372036854775807
            WHEN confirmed_at < 0 THEN (confirmed_at + 1) * 1000000000 + (confirmed_at_ns - 1000000000)
            ELSE confirmed_at * 1000000000 + confirmed_at_ns END,
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END
    FROM {{prefix}}phones;

DROP TABLE {{prefix}}phones;

ALTER TABLE {{prefix}}phones_new RENAME TO {{prefix}}phones;

CREATE UNIQUE INDEX {{prefix}}phones_id_idx ON {{prefix}}phones (account, id);

CREATE UNIQUE INDEX {{prefix}}phones_number_idx ON {{prefix}}phones (account, e164);

CREATE INDEX {{prefix}}phones_account_idx ON {{prefix}}phones (account, created_at, seq);

CREATE INDEX {{prefix}}phones_pending_idx ON {{prefix}}phones (expires_at) WHERE state = 1;

CREATE TABLE {{prefix}}challenges_new (
    seq          INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    phone_id     TEXT    NOT NULL,
    e164         TEXT    NOT NULL,
    purpose      INTEGER NOT NULL,
    channel      INTEGER NOT NULL,
    state        INTEGER NOT NULL,
    digest       BLOB    NOT NULL,
    attempts     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER NOT NULL
);

INSERT INTO {{prefix}}challenges_new (seq, account, id, phone_id, e164, purpose, channel, state, digest, attempts, created_at, expires_at, used_at)
    SELECT
        seq,
        account,
        id,
        phone_id,
        e164,
        purpose,
        channel,
        state,
        digest,
        attempts,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
        CASE WHEN used_at = -62135596800 AND used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN used_at > 9223372036 OR (used_at = 9223372036 AND used_at_ns > 854775807) THEN 9223372036854775807
            WHEN used_at < -9223372037 OR (used_at = -9223372037 AND used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN used_at < 0 THEN (used_at + 1) * 1000000000 + (used_at_ns - 1000000000)
            ELSE used_at * 1000000000 + used_at_ns END
    FROM {{prefix}}challenges;

DROP TABLE {{prefix}}challenges;

ALTER TABLE {{prefix}}challenges_new RENAME TO {{prefix}}challenges;

CREATE UNIQUE INDEX {{prefix}}challenges_id_idx ON {{prefix}}challenges (account, id);

CREATE INDEX {{prefix}}challenges_phone_idx ON {{prefix}}challenges (account, phone_id) WHERE state = 1;

CREATE INDEX {{prefix}}challenges_created_idx ON {{prefix}}challenges (created_at);

CREATE TABLE {{prefix}}browsers_new (
    seq          INTEGER PRIMARY KEY,
    account      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    label        TEXT    NOT NULL,
    digest       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL
);

INSERT INTO {{prefix}}browsers_new (seq, account, id, label, digest, created_at, expires_at, last_used_at, revoked_at)
    SELECT
        seq,
        account,
        id,
        label,
        digest,
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END,
        CASE WHEN revoked_at = -62135596800 AND revoked_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN revoked_at > 9223372036 OR (revoked_at = 9223372036 AND revoked_at_ns > 854775807) THEN 9223372036854775807
            WHEN revoked_at < -9223372037 OR (revoked_at = -9223372037 AND revoked_at_ns <= 145224192) THEN -9223372036854775807
            WHEN revoked_at < 0 THEN (revoked_at + 1) * 1000000000 + (revoked_at_ns - 1000000000)
            ELSE revoked_at * 1000000000 + revoked_at_ns END
    FROM {{prefix}}browsers;

DROP TABLE {{prefix}}browsers;

ALTER TABLE {{prefix}}browsers_new RENAME TO {{prefix}}browsers;

CREATE UNIQUE INDEX {{prefix}}browsers_id_idx ON {{prefix}}browsers (account, id);

CREATE UNIQUE INDEX {{prefix}}browsers_digest_idx ON {{prefix}}browsers (account, digest);

CREATE INDEX {{prefix}}browsers_account_idx ON {{prefix}}browsers (account, created_at, seq);

CREATE INDEX {{prefix}}browsers_expires_idx ON {{prefix}}browsers (expires_at);
