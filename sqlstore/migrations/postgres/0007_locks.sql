-- 0007_locks: the leases of the per-account lifecycle lock
-- (twofa.LockStore), which serialises the changes that turn two-factor
-- authentication on or off across replicas. until_at is Unix nanoseconds.

CREATE TABLE {{prefix}}locks (
    account  TEXT   NOT NULL PRIMARY KEY,
    holder   TEXT   NOT NULL,
    until_at BIGINT NOT NULL
);
