-- 0005_throttle_budget: the long-horizon budget of a throttle
-- (twofa.ThrottlePolicy's Budget and Refill), which a success does not
-- clear.
--
-- forgiven_at is ThrottleState.Forgiven in one column: nanoseconds since
-- the Unix epoch, 0 for none. Budgets are kept for clocks after 1970
-- (TOTP's T0); before it no code can be verified anyway.

ALTER TABLE {{prefix}}throttles ADD COLUMN forgiven_at BIGINT NOT NULL DEFAULT 0;
