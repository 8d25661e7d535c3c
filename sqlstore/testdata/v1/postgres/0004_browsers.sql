-- 0004_browsers: trusted browsers ("don't ask again on this browser"), as
-- keyed digests of their tokens.
--
-- Times as in 0001: Unix seconds and nanoseconds in two columns. A revoked
-- browser keeps its row (a tombstone) until it expires, so that a revoked
-- token can be told from one never issued; revoked_at holds the zero
-- time.Time (-62135596800, 0) while the browser is trusted.

CREATE TABLE {{prefix}}browsers (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    digest          BYTEA   NOT NULL,
    created_at      BIGINT  NOT NULL,
    created_at_ns   INTEGER NOT NULL,
    expires_at      BIGINT  NOT NULL,
    expires_at_ns   INTEGER NOT NULL,
    last_used_at    BIGINT  NOT NULL,
    last_used_at_ns INTEGER NOT NULL,
    revoked_at      BIGINT  NOT NULL,
    revoked_at_ns   INTEGER NOT NULL
);

CREATE UNIQUE INDEX {{prefix}}browsers_id_idx ON {{prefix}}browsers (account, id);

CREATE UNIQUE INDEX {{prefix}}browsers_digest_idx ON {{prefix}}browsers (account, digest);

CREATE INDEX {{prefix}}browsers_account_idx ON {{prefix}}browsers (account, created_at, created_at_ns, seq);

CREATE INDEX {{prefix}}browsers_expires_idx ON {{prefix}}browsers (expires_at, expires_at_ns);
