-- 0010_state_macs: a MAC column on every table whose rows carry mutable
-- security state (devices, phones, challenges, browsers). App passwords
-- have none: a row holds a keyed digest bound to its account, and is
-- deleted, never changed, when revoked.
-- twofa computes the MAC under its Keyring over the row's bound fields,
-- its id and its account; the store keeps it as opaque bytes and compares
-- it as the row's version in every compare-and-set.
--
-- Existing rows get the empty MAC, which twofa refuses as unauthenticated
-- until TwoFA.UpgradeMACs has given them one (devices, and phones through
-- an attached phone Manager; trusted browsers and challenges from before
-- are never adopted): the database holds no key, so no statement here
-- can.

ALTER TABLE {{prefix}}devices ADD COLUMN mac BLOB NOT NULL DEFAULT X'';

ALTER TABLE {{prefix}}phones ADD COLUMN mac BLOB NOT NULL DEFAULT X'';

ALTER TABLE {{prefix}}challenges ADD COLUMN mac BLOB NOT NULL DEFAULT X'';

ALTER TABLE {{prefix}}browsers ADD COLUMN mac BLOB NOT NULL DEFAULT X'';
