-- 0002_app_passwords: app-specific passwords, as keyed digests.
--
-- Times as in 0001: Unix seconds and nanoseconds in two columns.

CREATE TABLE {{prefix}}app_passwords (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    digest          BYTEA   NOT NULL,
    created_at      BIGINT  NOT NULL,
    created_at_ns   INTEGER NOT NULL,
    last_used_at    BIGINT  NOT NULL,
    last_used_at_ns INTEGER NOT NULL
);

CREATE UNIQUE INDEX {{prefix}}app_passwords_id_idx ON {{prefix}}app_passwords (account, id);

CREATE UNIQUE INDEX {{prefix}}app_passwords_label_idx ON {{prefix}}app_passwords (account, label);

CREATE UNIQUE INDEX {{prefix}}app_passwords_digest_idx ON {{prefix}}app_passwords (account, digest);

CREATE INDEX {{prefix}}app_passwords_account_idx ON {{prefix}}app_passwords (account, created_at, created_at_ns, seq);
