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
-- Each table is rewritten once, in place (ALTER COLUMN ... TYPE ... USING),
-- and the _ns columns dropped; the indexes on times are built again.
-- devices and throttles, updated at every sign-in, get a fillfactor of
-- 80, so that their updates find room on the same page and stay HOT (the
-- rewrite below already packs them so).

DROP INDEX {{prefix}}devices_account_idx;

DROP INDEX {{prefix}}devices_pending_idx;

ALTER TABLE {{prefix}}devices SET (fillfactor = 80);

ALTER TABLE {{prefix}}devices
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
    ALTER COLUMN expires_at TYPE BIGINT USING
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
    ALTER COLUMN confirmed_at TYPE BIGINT USING
        CASE WHEN confirmed_at = -62135596800 AND confirmed_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN confirmed_at > 9223372036 OR (confirmed_at = 9223372036 AND confirmed_at_ns > 854775807) THEN 9223372036854775807
            WHEN confirmed_at < -9223372037 OR (confirmed_at = -9223372037 AND confirmed_at_ns <= 145224192) THEN -9223372036854775807
            WHEN confirmed_at < 0 THEN (confirmed_at + 1) * 1000000000 + (confirmed_at_ns - 1000000000)
            ELSE confirmed_at * 1000000000 + confirmed_at_ns END,
    ALTER COLUMN last_used_at TYPE BIGINT USING
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END;

ALTER TABLE {{prefix}}devices
    DROP COLUMN created_at_ns,
    DROP COLUMN expires_at_ns,
    DROP COLUMN confirmed_at_ns,
    DROP COLUMN last_used_at_ns;

CREATE INDEX {{prefix}}devices_account_idx ON {{prefix}}devices (account, created_at, seq);

CREATE INDEX {{prefix}}devices_pending_idx ON {{prefix}}devices (expires_at) WHERE state = 1;

ALTER TABLE {{prefix}}throttles SET (fillfactor = 80);

ALTER TABLE {{prefix}}throttles
    ALTER COLUMN until_at TYPE BIGINT USING
        CASE WHEN until_at = -62135596800 AND until_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN until_at > 9223372036 OR (until_at = 9223372036 AND until_at_ns > 854775807) THEN 9223372036854775807
            WHEN until_at < -9223372037 OR (until_at = -9223372037 AND until_at_ns <= 145224192) THEN -9223372036854775807
            WHEN until_at < 0 THEN (until_at + 1) * 1000000000 + (until_at_ns - 1000000000)
            ELSE until_at * 1000000000 + until_at_ns END,
    ALTER COLUMN forgiven_at DROP DEFAULT,
    ALTER COLUMN forgiven_at TYPE BIGINT USING
        CASE WHEN forgiven_at = 0 THEN (-9223372036854775807 - 1) ELSE forgiven_at END;

ALTER TABLE {{prefix}}throttles
    DROP COLUMN until_at_ns;

ALTER TABLE {{prefix}}recovery_codes
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END;

ALTER TABLE {{prefix}}recovery_codes
    DROP COLUMN created_at_ns;

DROP INDEX {{prefix}}app_passwords_account_idx;

ALTER TABLE {{prefix}}app_passwords
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
    ALTER COLUMN last_used_at TYPE BIGINT USING
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END;

ALTER TABLE {{prefix}}app_passwords
    DROP COLUMN created_at_ns,
    DROP COLUMN last_used_at_ns;

CREATE INDEX {{prefix}}app_passwords_account_idx ON {{prefix}}app_passwords (account, created_at, seq);

DROP INDEX {{prefix}}phones_account_idx;

DROP INDEX {{prefix}}phones_pending_idx;

ALTER TABLE {{prefix}}phones
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
    ALTER COLUMN expires_at TYPE BIGINT USING
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
    ALTER COLUMN confirmed_at TYPE BIGINT USING
        CASE WHEN confirmed_at = -62135596800 AND confirmed_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN confirmed_at > 9223372036 OR (confirmed_at = 9223372036 AND confirmed_at_ns > 854775807) THEN 9223372036854775807
            WHEN confirmed_at < -9223372037 OR (confirmed_at = -9223372037 AND confirmed_at_ns <= 145224192) THEN -9223372036854775807
            WHEN confirmed_at < 0 THEN (confirmed_at + 1) * 1000000000 + (confirmed_at_ns - 1000000000)
            ELSE confirmed_at * 1000000000 + confirmed_at_ns END,
    ALTER COLUMN last_used_at TYPE BIGINT USING
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END;

ALTER TABLE {{prefix}}phones
    DROP COLUMN created_at_ns,
    DROP COLUMN expires_at_ns,
    DROP COLUMN confirmed_at_ns,
    DROP COLUMN last_used_at_ns;

CREATE INDEX {{prefix}}phones_account_idx ON {{prefix}}phones (account, created_at, seq);

CREATE INDEX {{prefix}}phones_pending_idx ON {{prefix}}phones (expires_at) WHERE state = 1;

DROP INDEX {{prefix}}challenges_number_idx;

DROP INDEX {{prefix}}challenges_created_idx;

ALTER TABLE {{prefix}}challenges
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
    ALTER COLUMN expires_at TYPE BIGINT USING
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
    ALTER COLUMN used_at TYPE BIGINT USING
        CASE WHEN used_at = -62135596800 AND used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN used_at > 9223372036 OR (used_at = 9223372036 AND used_at_ns > 854775807) THEN 9223372036854775807
            WHEN used_at < -9223372037 OR (used_at = -9223372037 AND used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN used_at < 0 THEN (used_at + 1) * 1000000000 + (used_at_ns - 1000000000)
            ELSE used_at * 1000000000 + used_at_ns END;

ALTER TABLE {{prefix}}challenges
    DROP COLUMN created_at_ns,
    DROP COLUMN expires_at_ns,
    DROP COLUMN used_at_ns;

CREATE INDEX {{prefix}}challenges_created_idx ON {{prefix}}challenges (created_at);

DROP INDEX {{prefix}}browsers_account_idx;

DROP INDEX {{prefix}}browsers_expires_idx;

ALTER TABLE {{prefix}}browsers
    ALTER COLUMN created_at TYPE BIGINT USING
        CASE WHEN created_at = -62135596800 AND created_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN created_at > 9223372036 OR (created_at = 9223372036 AND created_at_ns > 854775807) THEN 9223372036854775807
            WHEN created_at < -9223372037 OR (created_at = -9223372037 AND created_at_ns <= 145224192) THEN -9223372036854775807
            WHEN created_at < 0 THEN (created_at + 1) * 1000000000 + (created_at_ns - 1000000000)
            ELSE created_at * 1000000000 + created_at_ns END,
    ALTER COLUMN expires_at TYPE BIGINT USING
        CASE WHEN expires_at = -62135596800 AND expires_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN expires_at > 9223372036 OR (expires_at = 9223372036 AND expires_at_ns > 854775807) THEN 9223372036854775807
            WHEN expires_at < -9223372037 OR (expires_at = -9223372037 AND expires_at_ns <= 145224192) THEN -9223372036854775807
            WHEN expires_at < 0 THEN (expires_at + 1) * 1000000000 + (expires_at_ns - 1000000000)
            ELSE expires_at * 1000000000 + expires_at_ns END,
    ALTER COLUMN last_used_at TYPE BIGINT USING
        CASE WHEN last_used_at = -62135596800 AND last_used_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN last_used_at > 9223372036 OR (last_used_at = 9223372036 AND last_used_at_ns > 854775807) THEN 9223372036854775807
            WHEN last_used_at < -9223372037 OR (last_used_at = -9223372037 AND last_used_at_ns <= 145224192) THEN -9223372036854775807
            WHEN last_used_at < 0 THEN (last_used_at + 1) * 1000000000 + (last_used_at_ns - 1000000000)
            ELSE last_used_at * 1000000000 + last_used_at_ns END,
    ALTER COLUMN revoked_at TYPE BIGINT USING
        CASE WHEN revoked_at = -62135596800 AND revoked_at_ns = 0 THEN (-9223372036854775807 - 1)
            WHEN revoked_at > 9223372036 OR (revoked_at = 9223372036 AND revoked_at_ns > 854775807) THEN 9223372036854775807
            WHEN revoked_at < -9223372037 OR (revoked_at = -9223372037 AND revoked_at_ns <= 145224192) THEN -9223372036854775807
            WHEN revoked_at < 0 THEN (revoked_at + 1) * 1000000000 + (revoked_at_ns - 1000000000)
            ELSE revoked_at * 1000000000 + revoked_at_ns END;

ALTER TABLE {{prefix}}browsers
    DROP COLUMN created_at_ns,
    DROP COLUMN expires_at_ns,
    DROP COLUMN last_used_at_ns,
    DROP COLUMN revoked_at_ns;

CREATE INDEX {{prefix}}browsers_account_idx ON {{prefix}}browsers (account, created_at, seq);

CREATE INDEX {{prefix}}browsers_expires_idx ON {{prefix}}browsers (expires_at);
