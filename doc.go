// Package twofa is two-factor authentication for Go backends: one-time
// codes (HOTP, RFC 4226; TOTP, RFC 6238), the trusted devices that hold
// their secrets, and one call that tells a login handler whether a second
// factor is good - safely under concurrency and across server replicas.
//
// # The core
//
// A Secret is an authenticator's shared key; it never prints itself. TOTP
// and HOTP are prepared, immutable generators: AppendCode and Verify
// allocate nothing and compare in constant time. A Key is the otpauth:// URI (and
// QR code) that a phone app scans.
//
//	secret, _ := twofa.NewSecret()                       // 160 random bits
//	totp, _ := twofa.NewTOTP(secret, twofa.Options{})    // SHA-1, 6 digits, 30 s
//	code, _ := totp.Code(time.Now())
//	step, err := totp.Verify(code, time.Now(), 1)        // ±1 step; store step against replay
//
// # Devices and the Verifier
//
// Devices enrols an account's authenticators (pending until confirmed with
// a first code), lists, renames and revokes them; their secrets are sealed
// at rest by a Keyring (package keyring, loaded from one environment
// variable with keyring.Parse). A Verifier checks a sign-in code against every
// confirmed device and the account's recovery codes, refuses replays with
// an atomic compare-and-set in the store, tracks clock drift, and throttles
// guessers with an exponential back-off and a long-horizon budget. State lives behind the small
// store interfaces that Store combines: package memstore keeps it in
// memory, package sqlstore in SQLite or PostgreSQL.
//
//	keys, _ := keyring.Parse(os.Getenv("TWOFA_KEYS"))
//	cfg := twofa.Config{Store: memstore.New(), Keyring: keys, Issuer: "Example"}
//	devices, _ := twofa.NewDevices(cfg)
//	verifier, _ := twofa.NewVerifier(cfg)
//	res, err := verifier.Verify(ctx, account, code)
//	var throttled *twofa.ThrottledError
//	switch {
//	case err == nil: // signed in with res.Factor
//	case errors.As(err, &throttled): // 429, Retry-After: throttled.RetryAfter
//	default: // 401
//	}
//
// AppPasswords issues labelled app-specific passwords for clients that
// cannot prompt for a code; Phones verifies trusted phone numbers and sends
// them codes by SMS or voice (accepted as a second factor only with
// Config.OutOfBand); Browsers remembers browsers that passed a second
// factor. PasswordChanged revokes what a password change must void.
//
// Package twofatest gives tests a fake clock and an enrolled device that
// hands out its currently valid code.
package twofa
