package twofa

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
	holder, err := newID()
	if err != nil {
		return nil, err
	}
	rc.plugins = &plugins{holder: holder} // never shared with the Config New was given
	rc.gens = new(genPool)
	return tf, nil
}

// Config returns a copy of the resolved Config: every default filled in,
// the Clock set.
func (tf *TwoFA) Config() Config {
	c := *tf.c
	c.plugins, c.gens = nil, nil
	return c
}
