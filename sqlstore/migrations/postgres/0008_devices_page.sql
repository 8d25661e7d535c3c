-- 0008_devices_page: an index on every device in byte order of (account,
-- id), for DevicesAfter, which pages through the devices of all accounts
-- (TwoFA.Reseal after a key rotation). The columns are compared as bytes
-- (COLLATE "C"), whatever the database's collation, so that the order is
-- the one twofa.DeviceStore documents and the index serves the query.

CREATE INDEX {{prefix}}devices_page_idx ON {{prefix}}devices (account COLLATE "C", id COLLATE "C");
