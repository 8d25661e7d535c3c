-- 0009_signins: pending sign-ins (package signin), the step between the
-- password and the second factor, as keyed digests of their tokens.
--
-- Times as in 0006: Unix nanoseconds in one BIGINT column. A token is
-- looked up before its account is known, so the digest is unique across
-- accounts; the id within one. A void sign-in (attempts at the limit)
-- keeps its row until it expires; a finished one is deleted.

CREATE TABLE {{prefix}}signins (
    seq        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account    TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    digest     BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    label      TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    attempts   INTEGER NOT NULL
);

CREATE UNIQUE INDEX {{prefix}}signins_id_idx ON {{prefix}}signins (account, id);

CREATE UNIQUE INDEX {{prefix}}signins_digest_idx ON {{prefix}}signins (digest);

CREATE INDEX {{prefix}}signins_account_idx ON {{prefix}}signins (account, created_at, seq);

CREATE INDEX {{prefix}}signins_expires_idx ON {{prefix}}signins (expires_at);
