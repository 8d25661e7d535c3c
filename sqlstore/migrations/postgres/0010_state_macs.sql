-- 0010_state_macs: a MAC column on every table whose rows carry mutable
-- security state (devices, app passwords, phones, challenges, browsers).
-- twofa computes the MAC under its Keyring over the row's bound fields,
-- its id and its account; the store keeps it as opaque bytes and compares
-- it as the row's version in every compare-and-set.
--
-- Existing rows get the empty MAC, which twofa refuses as unauthenticated
-- until TwoFA.UpgradeMACs (and the attached packages' UpgradeMACs) has
-- given them one: the database holds no key, so no statement here can.

ALTER TABLE {{prefix}}devices ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;

ALTER TABLE {{prefix}}app_passwords ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;

ALTER TABLE {{prefix}}phones ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;

ALTER TABLE {{prefix}}challenges ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;

ALTER TABLE {{prefix}}browsers ADD COLUMN mac BYTEA NOT NULL DEFAULT ''::bytea;
