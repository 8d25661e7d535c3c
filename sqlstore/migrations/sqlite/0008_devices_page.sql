-- 0008_devices_page: an index on every device in order of (account, id),
-- for DevicesAfter, which pages through the devices of all accounts
-- (TwoFA.Reseal after a key rotation). SQLite's default BINARY collation
-- compares the columns as bytes, the order twofa.DeviceStore documents.

CREATE INDEX {{prefix}}devices_page_idx ON {{prefix}}devices (account, id);
