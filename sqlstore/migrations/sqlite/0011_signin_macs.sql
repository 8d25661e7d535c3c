-- 0011_signin_macs: a MAC column on the pending sign-ins, as 0010 gave the
-- other tables with mutable security state. A pending sign-in stands for
-- a passed password: twofa computes the MAC over its account, id,
-- digest, times, label, address and attempts, so that a row moved to
-- another account, or given back its attempts, is refused.
--
-- Existing rows get the empty MAC and are refused: a pending sign-in
-- lives minutes, and its owner signs in again.

ALTER TABLE {{prefix}}signins ADD COLUMN mac BLOB NOT NULL DEFAULT X'';
