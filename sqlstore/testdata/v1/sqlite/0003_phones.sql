-- 0003_phones: phone numbers and the out-of-band challenges sent to them.
--
-- Times as in 0001: Unix seconds and nanoseconds in two columns.
--
-- A phone keeps its number in E.164 form (codes are sent to it). A
-- challenge keeps the keyed digest of its code, never the code, and the
-- number it was sent to: the send limits count challenges per number, so
-- they outlive the phone (voided) for the hour the limits look back on.
-- States: phones 1 pending, 2 trusted; challenges 1 open, 2 used,
-- 3 voided (twofa.PhoneState, twofa.ChallengeState).

CREATE TABLE {{prefix}}phones (
    seq             INTEGER PRIMARY KEY,
    account         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    e164            TEXT    NOT NULL,
    country_code    INTEGER NOT NULL,
    state           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    created_at_ns   INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    expires_at_ns   INTEGER NOT NULL,
    confirmed_at    INTEGER NOT NULL,
    confirmed_at_ns INTEGER NOT NULL,
    last_used_at    INTEGER NOT NULL,
    last_used_at_ns INTEGER NOT NULL
);

CREATE UNIQUE INDEX {{prefix}}phones_id_idx ON {{prefix}}phones (account, id);

CREATE UNIQUE INDEX {{prefix}}phones_number_idx ON {{prefix}}phones (account, e164);

CREATE INDEX {{prefix}}phones_account_idx ON {{prefix}}phones (account, created_at, created_at_ns, seq);

CREATE INDEX {{prefix}}phones_pending_idx ON {{prefix}}phones (expires_at, expires_at_ns) WHERE state = 1;

CREATE TABLE {{prefix}}challenges (
    seq           INTEGER PRIMARY KEY,
    account       TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    phone_id      TEXT    NOT NULL,
    e164          TEXT    NOT NULL,
    purpose       INTEGER NOT NULL,
    channel       INTEGER NOT NULL,
    state         INTEGER NOT NULL,
    digest        BLOB    NOT NULL,
    attempts      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    expires_at_ns INTEGER NOT NULL,
    used_at       INTEGER NOT NULL,
    used_at_ns    INTEGER NOT NULL
);

CREATE UNIQUE INDEX {{prefix}}challenges_id_idx ON {{prefix}}challenges (account, id);

CREATE INDEX {{prefix}}challenges_number_idx ON {{prefix}}challenges (e164, created_at, created_at_ns);

CREATE INDEX {{prefix}}challenges_phone_idx ON {{prefix}}challenges (account, phone_id) WHERE state = 1;

CREATE INDEX {{prefix}}challenges_created_idx ON {{prefix}}challenges (created_at, created_at_ns);
