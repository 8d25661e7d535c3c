package twofa

import (
	"context"
	"errors"
	"fmt"
)

// TwoFA is an installation: the managers of an account's second factors
// and what hangs off them, and the checks of a sign-in (Verify), all
// reading one resolved Config, so no two parts can disagree about a
// setting. Make one with New and share it; it is safe for concurrent use,
// and its guarantees (single use of each code, throttling) hold across
// processes that share a store.
type TwoFA struct {
	Devices      *Devices       // trusted devices: enrol, confirm, list, rename, revoke
	Recovery     *RecoveryCodes // recovery codes
	AppPasswords *AppPasswords  // app-specific passwords
	// Phones manages trusted phone numbers and out-of-band codes. It is
	// nil unless Config.Phones.Sender is set.
	Phones *Phones

	c *Config // resolved; shared by every manager
}

// New checks c, fills in its defaults and returns the installation.
// Config.Store, Keyring and Issuer are required; Config.Store must
// implement every store interface (memstore and sqlstore do). Errors
// match ErrConfig.
func New(c Config) (*TwoFA, error) {
	c, err := c.resolved()
	if err != nil {
		return nil, err
	}
	rc := &c
	tf := &TwoFA{
		c:            rc,
		Devices:      &Devices{c: rc},
		Recovery:     &RecoveryCodes{c: rc},
		AppPasswords: &AppPasswords{c: rc},
	}
	rc.deps = &dependents{} // never shared with the Config New was given
	if rc.Phones.Sender != nil {
		tf.Phones = &Phones{c: rc, ps: rc.Store, cs: rc.Store}
	}
	return tf, nil
}

// Config returns a copy of the resolved Config: every default filled in,
// the Clock set.
func (tf *TwoFA) Config() Config { return *tf.c }

// Enabled reports whether two-factor authentication is on for the
// account: whether it has a confirmed device, or - with
// Config.Phones.OutOfBand set - a trusted phone number.
func (tf *TwoFA) Enabled(ctx context.Context, account string) (bool, error) {
	return tf.c.enabled(ctx, account)
}

// PasswordChanged revokes what a change of the account's primary password
// must void: every app-specific password and everything of an attached
// Dependent (trusted browsers, with package browser), since whoever learnt
// the old password may have made them. It also empties the
// throttles of one-time codes and recovery codes, budgets included: the
// failures in them were made by someone who knew the old password, and
// the owner should not stay refused after shutting them out. Call it from
// the password-change handler once the new password is stored. It tries
// every step and returns their errors joined (errors.Join; nil when all
// succeed).
func (tf *TwoFA) PasswordChanged(ctx context.Context, account string) error {
	c := tf.c
	if err := validAccount(account); err != nil {
		return err
	}
	_, errApp := c.revokeAppPasswords(ctx, account)
	errs := []error{errApp}
	for _, d := range c.deps.list() {
		_, err := d.RevokeAll(ctx, account)
		errs = append(errs, err)
	}
	for _, scope := range []string{ScopeCode, ScopeRecovery} {
		if err := c.Store.ResetThrottle(ctx, account, scope); err != nil {
			errs = append(errs, fmt.Errorf("twofa: password changed: %w", err))
		}
	}
	return errors.Join(errs...)
}
